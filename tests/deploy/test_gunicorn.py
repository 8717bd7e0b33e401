"""gunicorn with gevent workers, as deployed: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Real gunicorn processes on free ports, the full gateway (migrated database, the project's
resources.yaml), the Redis server of this machine with a stream of the test's own.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import gevent
import httpx
import pytest
from redis import Redis

from app.hub.command import mint_access_token
from app.hub.matchers import Matcher
from tests.deploy.gateway import (
    BOOK_TOPIC,
    JWT_KEY,
    PUBLIC_URL,
    SUBSCRIBER,
    WAIT,
    Listener,
    create_book,
    gateway_env,
    publish,
)
from tests.deploy.servers import ROOT, gunicorn, running
from tests.services import free_port


def worker_loads(redis_url: str, stream: str, expected: int = 0) -> list[int]:
    """How many subscribers each worker has, from the transport's registry in Redis,
    once they add up to ``expected`` (a worker records a new subscriber as it connects,
    or at its next refresh when it could not)."""
    client = Redis.from_url(redis_url)
    try:
        with gevent.Timeout(WAIT, False):
            while True:
                keys = list(client.scan_iter(match=f"{stream}:subscribers:*"))
                loads = sorted((int(client.hlen(key)) for key in keys), reverse=True)
                if sum(loads) == expected:
                    break
                gevent.sleep(0.05)
        return loads
    finally:
        client.close()


@pytest.mark.redis
def test_four_workers_share_updates_subscribers_and_history(
    tmp_path: Path, database_url: str, redis_stream: tuple[str, str]
) -> None:
    transport_url, stream = redis_stream
    redis_url = transport_url.split("?")[0]
    # A long subscribers_ttl: entries of stopped workers vanish only if they clean up.
    env = gateway_env(
        database_url, f"{transport_url}&subscribers_ttl=300", MERCURE_SUBSCRIPTIONS="1"
    )
    with running(gunicorn(tmp_path, env, workers=4)) as server:
        listeners: list[Listener] = []
        try:
            # The kernel hands each connection to one worker: open subscribers until they
            # sit on several workers.
            while len(listeners) < 96:
                listeners += [Listener(server.url, [BOOK_TOPIC]) for _ in range(8)]
                loads = worker_loads(redis_url, stream, expected=len(listeners))
                if len(loads) >= 3:
                    break
            assert len(loads) >= 2, loads
            assert sum(loads) == len(listeners)

            # Each publish is a new connection, so publishes go through various workers.
            published = [
                publish(server.url, f"{PUBLIC_URL}/books/{number}", f"update {number}")
                for number in range(20)
            ]
            for listener in listeners:
                assert listener.wait_for(20) == published

            # The subscriptions API of any worker lists the subscribers of all of them.
            for _attempt in range(4):
                response = httpx.get(
                    f"{server.url}/.well-known/mercure/subscriptions",
                    headers={"Authorization": f"Bearer {SUBSCRIBER}"},
                )
                assert response.status_code == 200, response.text
                listed = [
                    entry
                    for entry in response.json()["subscriptions"]
                    if entry["topic"] == BOOK_TOPIC
                ]
                assert len(listed) == len(listeners)
                assert response.json()["lastEventID"] == published[-1]

            # A restart of the whole app closes the open streams, the workers remove
            # their subscribers from Redis, and the history stays there.
            server.restart()
            for listener in listeners:
                listener.wait_for(21, timeout=5)
                assert listener.closed_by_server
            assert worker_loads(redis_url, stream) == []
        finally:
            for listener in listeners:
                listener.close()

        resumed = Listener(server.url, [BOOK_TOPIC], last_event_id=published[14])
        try:
            assert resumed.response.headers["Last-Event-ID"] == published[14]
            book = create_book(server.url, "After restart")
            received = resumed.wait_for(6)
            assert received[:5] == published[15:]
            assert len(received) == 6
            assert json.loads(resumed.events[5][1])["@id"] == book["@id"]
        finally:
            resumed.close()


def test_sqlite_history_survives_a_restart_of_the_app(tmp_path: Path, database_url: str) -> None:
    env = gateway_env(database_url, f"sqlite:///{tmp_path / 'history.db'}?size=100")
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        created = [create_book(server.url, f"Before restart {n}") for n in range(3)]
        first = Listener(server.url, [BOOK_TOPIC], last_event_id="earliest")
        try:
            ids = first.wait_for(3)
        finally:
            first.close()
        assert len(ids) == 3
        server.restart()
        resumed = Listener(server.url, [BOOK_TOPIC], last_event_id=ids[0])
        try:
            assert resumed.response.headers["Last-Event-ID"] == ids[0]
            create_book(server.url, "After restart")
            received = resumed.wait_for(3)
            assert received[:2] == ids[1:]
            assert len(received) == 3
            titles = [json.loads(data)["title"] for _id, data in resumed.events]
            assert titles == [created[1]["title"], created[2]["title"], "After restart"]
        finally:
            resumed.close()


@pytest.mark.parametrize(
    "transport_url", ["", "memory://?history_size=10", "sqlite:///history.db?size=10"]
)
def test_several_workers_with_a_process_local_transport_are_refused(
    tmp_path: Path, transport_url: str
) -> None:
    env = {
        **os.environ,
        **gateway_env(f"sqlite:///{tmp_path / 'unused.db'}", transport_url),
        "PORT": str(free_port()),
    }
    if not transport_url:
        del env["MERCURE_TRANSPORT_URL"]
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "-w", "3", "wsgi:app"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "refusing to start 3 workers" in result.stderr
    assert "Set MERCURE_TRANSPORT_URL=redis://" in result.stderr
    assert "Booting worker" not in result.stderr


def _gunicorn_config() -> dict[str, Any]:
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


@pytest.mark.parametrize(
    ("workers", "transport_url", "refused"),
    [
        (1, None, False),
        (1, "memory://", False),
        (1, "sqlite:///h.db", False),
        (2, None, True),
        (2, "  ", True),
        (2, "memory://", True),
        (4, "sqlite:///h.db", True),
        (4, "redis://127.0.0.1:6379/0", False),
        (4, "rediss://cache.example:6380/0?stream=s", False),
        (4, "REDIS://cache.example/0", False),
    ],
)
def test_transport_refusal(workers: int, transport_url: str | None, refused: bool) -> None:
    refusal = _gunicorn_config()["transport_refusal"](workers, transport_url)
    assert (refusal is not None) is refused
    if refused:
        assert f"refusing to start {workers} workers" in refusal
        assert "WEB_CONCURRENCY=1" in refusal


def request_line(url: str) -> int:
    """Bytes of the request line httpx sends for ``GET url``."""
    return len(b"GET " + httpx.URL(url).raw_path + b" HTTP/1.1")


def test_long_subscribe_urls_reach_the_hub(tmp_path: Path, database_url: str) -> None:
    """gunicorn's default request line limit (4094 bytes) answered 414 from about 100
    topics on; the hub's own limit of 1000 topics must be what a subscriber meets."""
    env = gateway_env(database_url, "memory://")
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        hub = f"{server.url}/.well-known/mercure"
        long_url = f"{hub}?{urlencode([('topic', f'{PUBLIC_URL}/b/{n}') for n in range(120)])}"
        short_topics = f"{hub}?{urlencode([('topic', f't{n}') for n in range(500)])}"
        too_many = f"{hub}?{urlencode([('topic', 't')] * 1001)}"
        assert 4094 < request_line(long_url) < request_line(short_topics) < 8190
        assert request_line(too_many) <= 8190
        with httpx.Client(timeout=WAIT) as client:
            for url in (long_url, short_topics):
                with client.stream("GET", url) as response:
                    assert response.status_code == 200
                    assert response.headers["content-type"] == "text/event-stream"
                    assert next(response.iter_raw()).startswith(b":")
            refused = client.get(too_many)
            assert (refused.status_code, refused.text) == (400, 'Too many "topic" parameters.\n')
            # Still bounded: an endless request line cannot grow a worker's memory.
            beyond = client.get(f"{hub}?topic={'t' * 8200}")
            assert beyond.status_code == 414


def test_request_line_limit_is_bounded_unless_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIMIT_REQUEST_LINE", raising=False)
    assert _gunicorn_config()["limit_request_line"] == 8190
    monkeypatch.setenv("LIMIT_REQUEST_LINE", "0")
    assert _gunicorn_config()["limit_request_line"] == 0


def test_subscriptions_api_splits_the_raw_path_gunicorn_gives(
    tmp_path: Path, database_url: str
) -> None:
    """gunicorn passes the request's raw path (``RAW_URI``): ``%2F`` inside the topic or the
    subscriber id never splits it, so an unknown subscriber under a topic holding ``/``
    is 404, as in the reference hub. (The decoded path alone reads the same URL as a
    collection of the topic ``.../a/b/https://ids.example/nobody``.)"""
    env = gateway_env(database_url, "memory://", MERCURE_SUBSCRIPTIONS="1")
    topic, nobody = "https://example.com/a/b", "https://ids.example/nobody"
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        api = f"{server.url}/.well-known/mercure/subscriptions"
        auth = {"Authorization": f"Bearer {SUBSCRIBER}"}
        escaped = quote(topic, safe="")
        with httpx.Client(timeout=WAIT) as client:
            missing = client.get(f"{api}/{escaped}/{quote(nobody, safe='')}", headers=auth)
            assert (missing.status_code, missing.text) == (404, "404 page not found\n")
            by_topic = client.get(f"{api}/{escaped}", headers=auth)
            assert by_topic.status_code == 200, by_topic.text
            assert by_topic.json()["id"] == f"/.well-known/mercure/subscriptions/{escaped}"


@pytest.mark.redis
def test_1_0_and_0_x_subscribers_share_updates_and_subscriptions_across_workers(
    tmp_path: Path, database_url: str, redis_stream: tuple[str, str]
) -> None:
    transport_url, stream = redis_stream
    redis_url = transport_url.split("?")[0]
    env = gateway_env(database_url, transport_url, MERCURE_SUBSCRIPTIONS="1")
    resource = f"{PUBLIC_URL}/.well-known/mercure"

    def access_token(**grants: list[Matcher]) -> str:
        return mint_access_token(JWT_KEY, "HS256", issuer=resource, audience=resource, **grants)

    pattern = f"{PUBLIC_URL}/books/:id"
    with running(gunicorn(tmp_path, env, workers=3)) as server:
        modern: list[Listener] = []
        legacy: list[Listener] = []
        try:
            while len(modern) < 48:
                modern += [Listener(server.url, [], patterns=[pattern]) for _ in range(6)]
                legacy += [Listener(server.url, [BOOK_TOPIC]) for _ in range(2)]
                loads = worker_loads(redis_url, stream, expected=len(modern) + len(legacy))
                if len(loads) >= 2:
                    break
            assert len(loads) >= 2, loads
            publisher = access_token(publish=[Matcher("urlpattern", pattern)])
            published = []
            for number in range(10):
                response = httpx.post(
                    f"{server.url}/.well-known/mercure",
                    data={"topic": f"{PUBLIC_URL}/books/{number}", "data": f"update {number}"},
                    headers={"Authorization": f"Bearer {publisher}"},
                    timeout=WAIT,
                )
                assert response.status_code == 200, response.text
                published.append(response.text)
            for listener in modern + legacy:
                assert listener.wait_for(10) == published

            # Any worker lists the 1.0 subscriptions of all of them, in 1.0 documents.
            watcher = access_token(
                subscribe=[Matcher("urlpattern", "/.well-known/mercure/subscriptions{/*}?")]
            )
            for _attempt in range(3):
                response = httpx.get(
                    f"{server.url}/.well-known/mercure/subscriptions",
                    headers={"Authorization": f"Bearer {watcher}"},
                )
                assert response.status_code == 200, response.text
                assert response.headers["Content-Type"] == "application/json"
                documents = response.json()["subscriptions"]
                assert sum(1 for d in documents if d["match"] == pattern) == len(modern)
                assert all(d["match_type"] == "urlpattern" for d in documents)
                assert f'last-event-id="{published[-1]}"' in response.headers["Link"]
        finally:
            for listener in modern + legacy:
                listener.close()
