"""The contract every transport keeps (``app.hub.transport.base``), one suite for all.

Each test runs on ``memory://``, ``sqlite://`` and ``redis://`` (the real Redis server). A
subscriber is added after the updates, so what it gets comes from the history; one added
before gets the live deliveries.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from redis import Redis

from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport import Transport, create_transport
from app.hub.update import Update
from tests.hub.transport.frames import received_ids
from tests.services import require_redis

TOPIC = "https://example.com/books/1"

Factory = Callable[[int], Transport]


@pytest.fixture(params=["memory", "sqlite", "redis"])
def transports(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """``transports(history_size)`` builds a transport of the parametrized kind."""
    built: list[Transport] = []
    stream = f"test:contract:{uuid.uuid4().hex}"
    redis_url = require_redis() if request.param == "redis" else ""

    def build(size: int) -> Transport:
        url = {
            "memory": f"memory://?history_size={size}",
            "sqlite": f"sqlite:///{tmp_path / 'history.db'}?size={size}",
            "redis": f"{redis_url}?stream={stream}&maxlen={size}",
        }[request.param]
        transport = create_transport(url)
        built.append(transport)
        return transport

    yield build
    for transport in built:
        transport.close()
    if redis_url:
        client = Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{stream}*"))
        if keys:
            client.delete(*keys)
        client.close()


def publish(transport: Transport, *ids: str, key: str | None = None) -> None:
    for update_id in ids:
        transport.dispatch(Update((TOPIC,), data=update_id, id=update_id, key=key))


def replayed(transport: Transport, last_event_id: str, count: int) -> tuple[list[str], str | None]:
    subscriber = Subscriber([TOPIC], last_event_id=last_event_id)
    answer = transport.add_subscriber(subscriber)
    ids = received_ids(subscriber, count, timeout=2 if count else 0.3)
    transport.remove_subscriber(subscriber)
    return ids, answer


def test_a_repeated_id_is_stored_and_delivered(transports: Factory) -> None:
    transport = transports(100)
    live = Subscriber([TOPIC])
    transport.add_subscriber(live)
    publish(transport, "a", "dup", "b", "dup", "c")
    assert received_ids(live, 5) == ["a", "dup", "b", "dup", "c"]
    assert replayed(transport, EARLIEST, 5) == (["a", "dup", "b", "dup", "c"], EARLIEST)


def test_last_event_id_of_a_repeated_id_resumes_after_its_first_occurrence(
    transports: Factory,
) -> None:
    transport = transports(100)
    publish(transport, "a", "dup", "b", "dup", "c")
    assert replayed(transport, "dup", 3) == (["b", "dup", "c"], "dup")


def test_an_update_is_kept_once_per_key(transports: Factory) -> None:
    transport = transports(100)
    live = Subscriber([TOPIC])
    transport.add_subscriber(live)
    key = uuid.uuid4().hex
    publish(transport, "first", key=key)
    publish(transport, "retried", key=key)  # a relay retrying after a lost reply
    publish(transport, "other", key=uuid.uuid4().hex)
    publish(transport, "plain", "plain")  # no key: no deduplication
    assert received_ids(live, 4) == ["first", "other", "plain", "plain"]
    assert replayed(transport, EARLIEST, 4)[0] == ["first", "other", "plain", "plain"]


def test_a_trimmed_first_occurrence_is_never_replayed_from(transports: Factory) -> None:
    """Once the first occurrence left the history, resuming from the id never replays
    from before it: from its next occurrence kept, or nothing with the answer earliest."""
    transport = transports(3)
    publish(transport, "dup", "a", "dup", "b", "c", "d")
    ids, answer = replayed(transport, "dup", 0)
    assert "a" not in ids
    assert answer == EARLIEST or ids == ["b", "c", "d"][-len(ids) :]
