"""The in-memory transport: live delivery, bounded history, Last-Event-ID replay, close."""

from __future__ import annotations

import pytest

from app.hub.sse import encode
from app.hub.subscriber import Subscriber
from app.hub.transport import TransportClosedError, create_transport
from app.hub.transport.memory import MemoryTransport, from_url
from app.hub.update import Update
from tests.hub.transport.frames import drained_ids

BOOK = "https://example.com/books/1"
OTHER = "https://example.com/authors/1"


def _publish(transport: MemoryTransport, *ids: str, topic: str = BOOK) -> list[Update]:
    updates = [Update((topic,), data=f"data {i}", id=i) for i in ids]
    for update in updates:
        transport.dispatch(update)
    return updates


def test_live_delivery_without_history_request() -> None:
    transport = MemoryTransport()
    subscriber = Subscriber([BOOK])
    assert transport.add_subscriber(subscriber) is None
    _publish(transport, "a", "b")
    _publish(transport, "c", topic=OTHER)
    assert drained_ids(subscriber) == ["a", "b"]


def test_replay_after_a_known_id_then_live() -> None:
    transport = MemoryTransport()
    _publish(transport, "a", "b", "c")
    _publish(transport, "x", topic=OTHER)
    subscriber = Subscriber([BOOK], last_event_id="a")
    assert transport.add_subscriber(subscriber) == "a"
    _publish(transport, "d")
    assert drained_ids(subscriber) == ["b", "c", "d"]


def test_earliest_replays_everything_kept() -> None:
    transport = MemoryTransport()
    _publish(transport, "a", "b")
    subscriber = Subscriber([BOOK], last_event_id="earliest")
    assert transport.add_subscriber(subscriber) == "earliest"
    assert drained_ids(subscriber) == ["a", "b"]


def test_unknown_id_answers_earliest_and_replays_nothing() -> None:
    transport = MemoryTransport()
    _publish(transport, "a", "b")
    subscriber = Subscriber([BOOK], last_event_id="gone")
    assert transport.add_subscriber(subscriber) == "earliest"
    _publish(transport, "c")
    assert drained_ids(subscriber) == ["c"]


def test_history_is_bounded_and_forgets_evicted_ids() -> None:
    transport = MemoryTransport(history_size=2)
    _publish(transport, "a", "b", "c")
    evicted = Subscriber([BOOK], last_event_id="a")
    assert transport.add_subscriber(evicted) == "earliest"
    kept = Subscriber([BOOK], last_event_id="b")
    assert transport.add_subscriber(kept) == "b"
    assert drained_ids(kept) == ["c"]
    everything = Subscriber([BOOK], last_event_id="earliest")
    transport.add_subscriber(everything)
    assert drained_ids(everything) == ["b", "c"]


def test_history_size_zero_keeps_nothing_but_tracks_the_last_id() -> None:
    transport = MemoryTransport(history_size=0)
    _publish(transport, "a")
    subscriber = Subscriber([BOOK], last_event_id="a")
    assert transport.add_subscriber(subscriber) == "earliest"
    assert transport.subscribers()[0] == "a"


def test_replay_skips_private_updates_the_token_does_not_allow() -> None:
    transport = MemoryTransport()
    transport.dispatch(Update((BOOK,), id="public"))
    transport.dispatch(Update((BOOK,), id="secret", private=True))
    anonymous = Subscriber([BOOK], last_event_id="earliest")
    transport.add_subscriber(anonymous)
    assert drained_ids(anonymous) == ["public"]
    allowed = Subscriber([BOOK], allowed_private=(BOOK,), last_event_id="earliest")
    transport.add_subscriber(allowed)
    assert drained_ids(allowed) == ["public", "secret"]


def test_remove_and_subscribers() -> None:
    transport = MemoryTransport()
    assert transport.subscribers() == ("earliest", [])
    first, second = Subscriber([BOOK], payload={"n": 1}), Subscriber(["*"])
    transport.add_subscriber(first)
    transport.add_subscriber(second)
    _publish(transport, "a")
    last, infos = transport.subscribers()
    assert last == "a"
    assert {info.id for info in infos} == {first.id, second.id}
    transport.remove_subscriber(first)
    transport.remove_subscriber(first)
    assert [info.id for info in transport.subscribers()[1]] == [second.id]


def test_close_disconnects_and_refuses() -> None:
    transport = MemoryTransport()
    subscriber = Subscriber([BOOK])
    transport.add_subscriber(subscriber)
    transport.close()
    transport.close()
    assert subscriber.closed
    with pytest.raises(TransportClosedError):
        transport.dispatch(Update((BOOK,)))
    with pytest.raises(TransportClosedError):
        transport.add_subscriber(Subscriber([BOOK]))


def test_dispatch_never_blocks_on_a_full_subscriber() -> None:
    transport = MemoryTransport()
    slow = Subscriber([BOOK], max_queue=1)
    fast = Subscriber([BOOK], max_queue=100)
    transport.add_subscriber(slow)
    transport.add_subscriber(fast)
    _publish(transport, "a", "b", "c")
    assert slow.overflowed
    assert drained_ids(fast) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("url", "size"),
    [("memory://", 1000), ("memory://?history_size=5", 5), ("MEMORY://?history_size=0", 0)],
)
def test_create_transport_from_url(url: str, size: int) -> None:
    transport = create_transport(url)
    assert isinstance(transport, MemoryTransport)
    assert transport.history_size == size


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("memory://?history_size=lots", "is not an integer"),
        ("memory://?history_size=-1", "must be 0 or more"),
    ],
)
def test_bad_memory_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_url(url)


def test_unknown_scheme_names_the_supported_ones() -> None:
    with pytest.raises(ValueError, match=r"unsupported scheme 'kafka'.*memory://"):
        create_transport("kafka://broker")


def test_frames_in_history_are_the_live_frames() -> None:
    transport = MemoryTransport()
    update = Update((BOOK,), data="line 1\nline 2", id="a", type="t", retry=5)
    transport.dispatch(update)
    subscriber = Subscriber([BOOK], last_event_id="earliest")
    transport.add_subscriber(subscriber)
    assert subscriber.drain() == encode(update)
