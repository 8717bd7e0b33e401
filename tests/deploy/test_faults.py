"""Nothing committed is lost: REST writes under load through faults of the deployment.

Each test runs gunicorn with the shipped bookshop and a steady load of REST writes
(:class:`~tests.deploy.faults.WriteLoad`: books created and retitled by an administrator
from a few greenlets, each write with a title of its own) while a subscriber that
reconnects as ``EventSource`` does (:class:`~tests.deploy.faults.Resubscriber`) follows
every book. Then a fault: gunicorn reloaded (``HUP``) or stopped (``TERM``) and started
again, the Redis server stopped and started again, an external hub killed and started
again. Once the load stops, the gateway's outbox empties and a last write (the sentinel)
reaches the subscriber; then:

- every REST answer was 2xx, and no subscribe request was answered with anything but 200;
- every reconnection resumed from the ``Last-Event-ID`` it sent (the history had it);
- the subscriber received each committed write's title exactly once, no title that was not
  committed and no event id twice, and each book's updates in the order its changes were
  committed.

A write that got no answer (the server went away with the request) is decided from the
stored books (see :class:`~tests.deploy.faults.WriteLoad`): it counts as committed exactly
when its change is in the database.

``FAULTS_SEED`` replays a run's choices of writes (the seed is in every failure message;
the interleaving of the writers with the faults is the scheduler's).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import gevent
import pytest

from tests.deploy.faults import (
    RECONNECT_PAUSE,
    Resubscriber,
    WriteLoad,
    log_lines,
    report,
    verdict,
    wait_for_empty_outbox,
)
from tests.deploy.gateway import (
    BOOK_TOPIC,
    PUBLISHER,
    WAIT,
    gateway_env,
    migrate,
    postgres_database,
    sqlite_database,
)
from tests.deploy.servers import Process, gunicorn, nginx, redis_server, running
from tests.deploy.test_nginx import configure

RELAY_RETRY = {"MERCURE_PUBLISH_RETRY_MIN_DELAY": "0.05", "MERCURE_PUBLISH_RETRY_MAX_DELAY": "0.5"}
"""Short relay back-offs: a restored hub gets the backlog within half a second."""
STEP = 50
"""Answered writes between one fault and the next."""
TOTAL = 300
"""Answered writes of a whole run, at least."""


@pytest.fixture
def seed() -> int:
    value = int(os.environ.get("FAULTS_SEED") or random.randrange(2**32))
    print(f"FAULTS_SEED={value}")
    return value


@contextmanager
def load_and_subscriber(
    base_url: str, seed: int, label: str, *, hub_url: str | None = None, verify: bool = True
) -> Iterator[tuple[WriteLoad, Resubscriber]]:
    """A subscriber to every book (from the start of a fresh history) and the load."""
    subscriber = Resubscriber(
        hub_url or f"{base_url}/.well-known/mercure",
        [BOOK_TOPIC],
        last_event_id="earliest",
        verify=verify,
    )
    load = WriteLoad(base_url, seed=seed, label=label, verify=verify)
    try:
        yield load, subscriber
    finally:
        load.stop()
        subscriber.close()


def settle(load: WriteLoad, subscriber: Resubscriber, database_url: str) -> None:
    """Stop the load, wait until the outbox is empty, write the sentinel and wait until
    the subscriber has it: every update committed before it has been delivered by then
    (each hub delivers in the order it was given the updates)."""
    load.stop()
    wait_for_empty_outbox(database_url)
    sentinel = load.create(-1, 0, title=f"{load.label} sentinel")
    assert sentinel.outcome == 201, sentinel.describe()
    assert subscriber.wait_for_title(sentinel.title), (
        f"the sentinel never arrived; {load.summary()}"
    )
    load.resolve()


def check(
    load: WriteLoad,
    subscriber: Resubscriber,
    logs: Collection[Path],
    *,
    unanswered: bool = False,
    tolerated: Collection[str] = (),
) -> None:
    """The assertions every fault test shares (see the module docstring), commit order per
    book included; ``unanswered``:
    writes may go without an answer (the server was down); ``tolerated``: event ids that
    may arrive twice."""
    repeats = len(subscriber.events) - len({event.id for event in subscriber.events})
    print(f"{load.summary()}; {len(subscriber.events)} events ({repeats} repeated),")
    print(f"{len(subscriber.connections)} subscribe requests, {len(tolerated)} ids tolerated")
    problems = [f"non-2xx answer: {write.describe()}" for write in load.failures()]
    if not unanswered:
        problems += [f"no answer: {write.describe()}" for write in load.unanswered()]
    problems += [
        f"subscribe answered {c.status}: {c.error}" for c in subscriber.failed_subscriptions()
    ]
    problems += [
        f"subscribe with Last-Event-ID {c.sent} resumed from {c.answered}"
        for c in subscriber.connections
        if c.status == 200 and c.answered != c.sent
    ]
    problems += verdict(load.committed(), subscriber.events, ordered=True, tolerated=tolerated)
    assert not problems, report(load, subscriber, problems, logs)


def count_in_log(process: Process, text: str) -> int:
    return sum(1 for line in log_lines(process.log_path, re.escape(text)))


def wait_in_log(process: Process, text: str, count: int) -> None:
    """Block until ``text`` appears ``count`` times in ``process``'s log."""
    with gevent.Timeout(WAIT, False):
        while count_in_log(process, text) < count:
            gevent.sleep(0.05)
        return
    raise AssertionError(f"{text!r} did not appear {count} times:\n{process.log()}")


def reload(server: Process, workers: int, load: WriteLoad) -> None:
    """``kill -HUP`` the gunicorn master; return once the new workers booted and the old
    ones exited."""
    assert server.popen is not None
    booted = count_in_log(server, "Booting worker")
    exited = count_in_log(server, "Worker exiting")
    load.mark("HUP")
    os.kill(server.popen.pid, signal.SIGHUP)
    wait_in_log(server, "Booting worker", booted + workers)
    wait_in_log(server, "Worker exiting", exited + workers)
    load.mark("reloaded")


def reload_under_load(
    server: Process, workers: int, load: WriteLoad, subscriber: Resubscriber, reloads: int
) -> None:
    load.wait_for(STEP, "before the first reload")
    for _round in range(reloads):
        connections = len(subscriber.connections)
        reload(server, workers, load)
        load.wait_for(load.answered + STEP, "after a reload")
        # The old workers ended the stream: the subscriber came back to a new one.
        assert len(subscriber.connections) > connections
    load.wait_for(TOTAL)


# -- 1. kill -HUP: a reload under load ------------------------------------------------------


@pytest.mark.redis
@pytest.mark.postgres
def test_reloads_of_two_workers_sharing_a_redis_server_lose_nothing(
    tmp_path: Path, seed: int
) -> None:
    with (
        running(redis_server(tmp_path)) as redis,
        postgres_database() as database_url,
    ):
        env = gateway_env(database_url, f"redis://127.0.0.1:{redis.port}/0", **RELAY_RETRY)
        migrate(env)
        with (
            running(gunicorn(tmp_path, env, workers=2)) as server,
            load_and_subscriber(server.url, seed, "hup-redis") as (load, subscriber),
        ):
            reload_under_load(server, 2, load, subscriber, reloads=3)
            settle(load, subscriber, database_url)
            check(load, subscriber, [server.log_path])


def test_reloads_of_one_worker_with_sqlite_history_lose_nothing(
    tmp_path: Path, database_url: str, seed: int
) -> None:
    reloads_with_sqlite_history(tmp_path, database_url, seed)


def reloads_with_sqlite_history(tmp_path: Path, database_url: str, seed: int) -> None:
    env = gateway_env(database_url, f"sqlite:///{tmp_path / 'history.db'}", **RELAY_RETRY)
    with (
        running(gunicorn(tmp_path, env, workers=1)) as server,
        load_and_subscriber(server.url, seed, "hup-sqlite") as (load, subscriber),
    ):
        reload_under_load(server, 1, load, subscriber, reloads=3)
        settle(load, subscriber, database_url)
        check(load, subscriber, [server.log_path])


def test_reloads_behind_nginx_lose_nothing(tmp_path: Path, database_url: str, seed: int) -> None:
    """The same through the shipped nginx site: TLS to the clients, keep-alive upstream."""
    env = gateway_env(database_url, f"sqlite:///{tmp_path / 'history.db'}", **RELAY_RETRY)
    with running(gunicorn(tmp_path, env, workers=1)) as server:
        main, _http_port, https_port = configure(tmp_path, server.port)
        with running(nginx(tmp_path, main, https_port)) as proxy:
            base = f"https://127.0.0.1:{proxy.port}"
            with load_and_subscriber(base, seed, "hup-nginx", verify=False) as (
                load,
                subscriber,
            ):
                reload_under_load(server, 1, load, subscriber, reloads=2)
                settle(load, subscriber, database_url)
                check(load, subscriber, [server.log_path, tmp_path / "error.log"])


# -- 2. kill -TERM, then start again ----------------------------------------------------


def test_a_stop_and_a_start_on_the_same_database_and_history_lose_nothing(
    tmp_path: Path, database_url: str, seed: int
) -> None:
    """Writes that reach no server while it is down are not committed; a write that got
    no answer is decided from the database. The subscriber comes back with its
    ``Last-Event-ID`` and the history file gives it what it missed."""
    stop_and_start(tmp_path, database_url, seed)


def stop_and_start(tmp_path: Path, database_url: str, seed: int) -> None:
    env = gateway_env(database_url, f"sqlite:///{tmp_path / 'history.db'}", **RELAY_RETRY)
    with (
        running(gunicorn(tmp_path, env, workers=1)) as server,
        load_and_subscriber(server.url, seed, "term") as (load, subscriber),
    ):
        load.wait_for(STEP * 2, "before the stop")
        assert server.popen is not None
        load.mark("TERM")
        os.kill(server.popen.pid, signal.SIGTERM)
        try:
            server.popen.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"gunicorn did not stop:\n{server.log()}") from None
        refused = len(load.unanswered())
        with gevent.Timeout(WAIT, AssertionError("no write was refused while down")):
            while len(load.unanswered()) < refused + 10:
                gevent.sleep(RECONNECT_PAUSE)
        load.mark("stopped")
        server.start()
        load.mark("started")
        load.wait_for(load.answered + STEP * 2, "after the start")
        settle(load, subscriber, database_url)
        check(load, subscriber, [server.log_path], unanswered=True)
        assert len(subscriber.connections) >= 2


# -- 3. the Redis server stopped and started again -------------------------------------------

REDIS_OUTAGE = 30.0
"""Seconds Redis stays down while the writes go on."""


@pytest.mark.redis
@pytest.mark.postgres
def test_a_redis_outage_delays_updates_and_loses_none(tmp_path: Path, seed: int) -> None:
    """Writes keep answering 201 while Redis is down; their updates stay in the outbox
    and each worker's relay queues later ones behind them; once Redis is back every
    committed update reaches the subscriber exactly once.

    The subscriber stays connected through the outage (the workers keep their
    subscribers while their stream reader reconnects), and the test checks it did. A
    subscriber that reconnected instead could not be served the updates from before the
    outage: this private Redis keeps nothing across its restart (``--save ""``), so an
    id from before it is unknown and answered ``Last-Event-ID: earliest``."""
    redis_outage(tmp_path, seed)


def redis_outage(tmp_path: Path, seed: int) -> None:
    with (
        running(redis_server(tmp_path)) as redis,
        postgres_database() as database_url,
    ):
        env = gateway_env(database_url, f"redis://127.0.0.1:{redis.port}/0", **RELAY_RETRY)
        migrate(env)
        with (
            running(gunicorn(tmp_path, env, workers=2)) as server,
            load_and_subscriber(server.url, seed, "redis-outage") as (load, subscriber),
        ):
            load.wait_for(STEP * 2, "before the outage")
            load.mark("Redis stopped")
            redis.stop()
            during, first = load.answered, len(load.writes)
            outage = gevent.spawn(gevent.sleep, REDIS_OUTAGE)
            load.wait_for(during + STEP, "during the outage")
            outage.join()
            outage_writes = load.writes[first:]
            redis.start()
            load.mark("Redis started")
            load.wait_for(load.answered + STEP, "after the outage")
            load.wait_for(TOTAL)
            settle(load, subscriber, database_url)
            logs = [server.log_path, redis.log_path]
            check(load, subscriber, logs)
            assert len(subscriber.connections) == 1, report(load, subscriber, [], logs)
            assert any(write.outcome == 201 for write in outage_writes)
            assert log_lines(server.log_path, "cannot take update"), "no write met the outage"


# -- 4. an external hub killed and started again ---------------------------------------


NEVER_SENT = frozenset({"ConnectError", "ConnectTimeout", "PoolTimeout", "HTTP"})
"""Failed attempts after which the hub cannot have taken the update: no connection, or
the hub's own answer (``HTTP 5xx``: it did not publish)."""


def relay_attempts_after_sending(log: Path) -> set[str]:
    """Ids of updates whose delivery to the external hub failed after the request could
    have reached it (anything but a refused connection): the only updates the hub may
    have taken without the gateway knowing, so the only ones it may publish twice."""
    found = set()
    pattern = re.compile(r"cannot take update (\S+) now \(attempt \d+: (\w+)")
    for line in log_lines(log, "cannot take update"):
        match = pattern.search(line)
        if match and match.group(2) not in NEVER_SENT:
            found.add(match.group(1))
    return found


def test_an_external_hub_killed_and_restarted_gets_every_update(
    tmp_path: Path, migrated_sqlite: Path, seed: int
) -> None:
    """The gateway publishes to another gateway's hub (SQLite history, so a subscriber
    resumes there after the restart) through its outbox. An external hub is not told the
    updates' keys, so delivery is at least once: an update may arrive twice (with the same
    id) only when the log shows an attempt that failed after the request was sent (a lost
    ``200``); any other duplicate fails the test."""
    hub_dir, shop_dir = tmp_path / "hub", tmp_path / "shop"
    hub_dir.mkdir()
    shop_dir.mkdir()
    hub_env = gateway_env(
        sqlite_database(hub_dir, migrated_sqlite), f"sqlite:///{hub_dir / 'history.db'}"
    )
    hub = gunicorn(hub_dir, hub_env, workers=1)
    hub_url = f"{hub.url}/.well-known/mercure"
    shop_database = sqlite_database(shop_dir, migrated_sqlite)
    shop_env = gateway_env(
        shop_database,
        "memory://",
        MERCURE_PUBLISH_URL=hub_url,
        MERCURE_SUBSCRIBE_URL=hub_url,
        MERCURE_JWT_TOKEN=PUBLISHER,
        **RELAY_RETRY,
    )
    with (
        running(hub),
        running(gunicorn(shop_dir, shop_env, workers=1)) as shop,
        load_and_subscriber(shop.url, seed, "external", hub_url=hub_url) as (load, subscriber),
    ):
        load.wait_for(STEP * 2, "before the hub is killed")
        assert hub.popen is not None
        os.killpg(hub.popen.pid, signal.SIGKILL)  # a crash: nothing is drained
        hub.popen.wait(timeout=WAIT)
        load.mark("hub killed")
        down = load.answered
        load.wait_for(down + STEP, "while the hub is down")
        hub.start()
        load.mark("hub started")
        load.wait_for(load.answered + STEP, "after the hub is back")
        load.wait_for(TOTAL)
        settle(load, subscriber, shop_database)
        logs = [shop.log_path, hub.log_path]
        check(
            load,
            subscriber,
            logs,
            tolerated=relay_attempts_after_sending(shop.log_path),
        )
        assert log_lines(shop.log_path, "cannot take update"), "no write met the outage"
        assert len(subscriber.connections) >= 2
