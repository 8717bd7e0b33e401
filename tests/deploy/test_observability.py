"""Metrics, probes and logs of the deployed shape: gunicorn, two gevent workers, Redis.

- ``/metrics`` sums every worker's values (prometheus_client's multiprocess mode, set up
  by ``gunicorn.conf.py``): subscribers held by both workers, updates and REST requests
  served by both, and, after a reload, the counters of the workers that exited too, while
  the connected-subscribers gauge forgets them;
- ``/readyz`` fails, naming the transport, while the private redis-server is stopped, and
  recovers when it is back (both workers count their transport's reconnection);
  ``/healthz`` answers all along;
- ``METRICS_ADDRESS`` makes gunicorn listen on a private address that alone serves
  ``/metrics`` (with the probes); ``METRICS_TOKEN`` lets a scraper read it on the public one;
- behind the shipped nginx site, ``/metrics`` is hidden and nginx's request id is kept;
- ``LOG_FORMAT=json``: every line of gunicorn's output is a JSON object, and the request id
  (sent, or made up when the sent one is not sane) is in the answer's header, its
  problem+json body and the log lines of the request.
"""

from __future__ import annotations

import json
import os
import signal
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.gateway import (
    BOOK_TOPIC,
    SUBSCRIBER,
    WAIT,
    Listener,
    create_book,
    gateway_env,
    migrate,
    postgres_database,
)
from tests.deploy.servers import Process, gunicorn, nginx, redis_server, running
from tests.deploy.test_faults import count_in_log, wait_in_log
from tests.deploy.test_nginx import configure
from tests.services import free_port, wait_until

SUBSCRIBERS = 8
BOOKS = 6

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str, **headers: str) -> Samples:
    """Every sample of one scrape of ``/metrics`` (a new connection: any worker answers)."""
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=WAIT)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@contextmanager
def two_workers_on_redis(tmp_path: Path, **extra: str) -> Iterator[tuple[Process, Process]]:
    """A private redis-server, a fresh PostgreSQL database and gunicorn with two workers."""
    with (
        running(redis_server(tmp_path)) as redis,
        postgres_database() as database_url,
    ):
        env = gateway_env(database_url, f"redis://127.0.0.1:{redis.port}/0", **extra)
        migrate({**env, "MERCURE_TRANSPORT_URL": "memory://"})  # the schema needs no hub
        with running(gunicorn(tmp_path, env, workers=2)) as server:
            yield server, redis


def reload(server: Process) -> None:
    """``kill -HUP``: two new workers boot, the two old ones exit."""
    assert server.popen is not None
    booted = count_in_log(server, "Booting worker")
    exited = count_in_log(server, "Worker exiting")
    os.kill(server.popen.pid, signal.SIGHUP)
    wait_in_log(server, "Booting worker", booted + 2)
    wait_in_log(server, "Worker exiting", exited + 2)


@pytest.mark.redis
@pytest.mark.postgres
def test_metrics_are_summed_over_both_workers_and_across_a_reload(tmp_path: Path) -> None:
    metrics_parent = tmp_path / "metrics"
    with two_workers_on_redis(tmp_path, METRICS_DIR=str(metrics_parent)) as (
        server,
        _redis,
    ):
        # Each worker writes its own files in the master's fresh directory.
        (directory,) = metrics_parent.iterdir()
        wait_until(
            "both workers writing metrics",
            lambda: len({p.stem.rsplit("_", 1)[1] for p in directory.glob("counter_*.db")}) == 2,
        )
        listeners = [
            Listener(server.url, [BOOK_TOPIC], token=SUBSCRIBER) for _ in range(SUBSCRIBERS)
        ]
        try:
            for number in range(BOOKS):
                create_book(server.url, f"metrics {number}")
            for listener in listeners:
                assert len(listener.wait_for(BOOKS)) == BOOKS
            samples = scrape(server.url)
            assert value(samples, "mercure_subscribers_connected") == SUBSCRIBERS
            assert value(samples, "mercure_subscribers_total") == SUBSCRIBERS
            assert value(samples, "mercure_updates_total") == BOOKS
            created = {"resource": "Book", "operation": "post", "status": "201"}
            assert value(samples, "gateway_http_requests_total", **created) == BOOKS
            assert (
                value(
                    samples,
                    "gateway_http_request_duration_seconds_count",
                    resource="Book",
                    operation="post",
                )
                == BOOKS
            )
            assert value(samples, "gateway_outbox_updates", hub="default", status="pending") == 0
            # The same sums, whichever worker answers the scrape.
            for _ in range(4):
                again = scrape(server.url)
                assert value(again, "mercure_updates_total") == BOOKS
                assert value(again, "mercure_subscribers_connected") == SUBSCRIBERS
        finally:
            for listener in listeners:
                listener.close()
        wait_until(
            "the subscribers' departure being counted",
            lambda: value(scrape(server.url), "mercure_subscribers_connected") == 0,
        )
        reload(server)
        create_book(server.url, "after the reload")
        after = scrape(server.url)
        # The exited workers' counters stay in the sums; their gauges are gone.
        assert value(after, "mercure_updates_total") == BOOKS + 1
        assert value(after, "gateway_http_requests_total", **created) == BOOKS + 1
        assert value(after, "mercure_subscribers_total") == SUBSCRIBERS
        assert value(after, "mercure_subscribers_connected") == 0
    assert not metrics_parent.exists() or not any(metrics_parent.iterdir()), (
        "the master left its metrics directory behind"
    )


def readiness(base_url: str) -> httpx.Response:
    return httpx.get(f"{base_url}/readyz", timeout=WAIT)


@pytest.mark.redis
@pytest.mark.postgres
def test_readiness_follows_the_redis_server(tmp_path: Path) -> None:
    with two_workers_on_redis(tmp_path) as (server, redis):
        ready = readiness(server.url)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "up", "transport": "up"}
        redis.stop()
        # Every answer, from either worker, fails once Redis is gone.
        wait_until(
            "readiness failing",
            lambda: all(readiness(server.url).status_code == 503 for _ in range(6)),
        )
        down = readiness(server.url)
        assert down.headers["content-type"] == "application/problem+json"
        problem = down.json()
        assert problem["status"] == 503
        assert problem["checks"] == {"database": "up", "transport": "down"}
        assert "transport" in problem["detail"]
        assert problem["requestId"] == down.headers["x-request-id"]
        alive = httpx.get(f"{server.url}/healthz", timeout=WAIT)
        assert alive.status_code == 200
        redis.start()
        wait_until(
            "readiness recovering",
            lambda: all(readiness(server.url).status_code == 200 for _ in range(6)),
        )
        # Each worker's stream reader got its connection back, and said so.
        wait_until(
            "both reconnections counted",
            lambda: value(scrape(server.url), "gateway_transport_reconnects_total") >= 2,
        )


def test_metrics_on_a_private_address_or_with_a_token(tmp_path: Path, database_url: str) -> None:
    metrics_port = free_port()
    token = "scraper-token-of-the-deploy-tests"
    env = gateway_env(
        database_url,
        "memory://",
        METRICS_ADDRESS=f"127.0.0.1:{metrics_port}",
        METRICS_TOKEN=token,
    )
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        private = f"http://127.0.0.1:{metrics_port}"
        assert value(scrape(private), "mercure_updates_total") == 0
        assert httpx.get(f"{private}/readyz", timeout=WAIT).status_code == 200
        assert httpx.get(f"{private}/books", timeout=WAIT).status_code == 404
        public = httpx.get(f"{server.url}/metrics", timeout=WAIT)
        assert public.status_code == 401
        # The listener decides, not the Host header a client chooses.
        posing = httpx.get(
            f"{server.url}/metrics", headers={"Host": f"127.0.0.1:{metrics_port}"}, timeout=WAIT
        )
        assert posing.status_code == 401
        assert public.headers["www-authenticate"] == 'Bearer realm="metrics"'
        scrape(server.url, Authorization=f"Bearer {token}")
        assert httpx.get(f"{server.url}/books", timeout=WAIT).status_code == 200


def test_json_logs_carry_the_request_id(tmp_path: Path, database_url: str) -> None:
    # No Redis listens on this port: readiness logs why it fails, in the request.
    env = gateway_env(database_url, f"redis://127.0.0.1:{free_port()}/0", LOG_FORMAT="json")
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        sent = "probe-1234.abcd"
        answer = httpx.get(f"{server.url}/readyz", headers={"X-Request-Id": sent}, timeout=WAIT)
        assert answer.status_code == 503
        assert answer.headers["x-request-id"] == sent
        assert answer.json()["requestId"] == sent
        missing = httpx.get(
            f"{server.url}/books/999", headers={"X-Request-Id": "no spaces\tallowed"}, timeout=WAIT
        )
        made_up = missing.headers["x-request-id"]
        assert len(made_up) == 32
        assert missing.json()["requestId"] == made_up
        wait_until("the access log line", lambda: made_up in server.log())
    lines = [line for line in server.log_path.read_text().splitlines() if line.strip()]
    records, not_json = [], []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            not_json.append(line)
    assert not not_json, "log lines that are not JSON:\n" + "\n".join(not_json)
    by_id: dict[str, list[dict[str, object]]] = defaultdict(list)
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
        if record.get("request_id"):
            by_id[str(record["request_id"])].append(record)
    assert any(r["logger"] == "app.health" for r in by_id[sent]), records
    assert any(f"request_id={sent}" in str(r["message"]) for r in records), records
    assert any(f"request_id={made_up}" in str(r["message"]) for r in records), records


def test_behind_the_shipped_nginx(tmp_path: Path, database_url: str) -> None:
    """nginx hides ``/metrics`` and gives every request its own id, which the gateway keeps."""
    env = gateway_env(database_url, "memory://")
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        main, _http_port, https_port = configure(tmp_path, server.port)
        with running(nginx(tmp_path, main, https_port)):
            base = f"https://127.0.0.1:{https_port}"
            hidden = httpx.get(f"{base}/metrics", verify=False, timeout=WAIT)
            assert hidden.status_code == 404
            assert "mercure_updates_total" not in hidden.text
            missing = httpx.get(
                f"{base}/books/999",
                headers={"X-Request-Id": "chosen-by-the-client"},
                verify=False,
                timeout=WAIT,
            )
            assert missing.status_code == 404
            made = missing.headers["x-request-id"]
            assert made != "chosen-by-the-client"
            assert len(made) == 32
            assert missing.json()["requestId"] == made
            ready = httpx.get(f"{base}/readyz", verify=False, timeout=WAIT)
            assert ready.status_code == 200
        assert httpx.get(f"{server.url}/metrics", timeout=WAIT).status_code == 200
