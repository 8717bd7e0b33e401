"""The in-memory history bounded in bytes: oldest first, each update kept once."""

from __future__ import annotations

import pytest

from app.hub.size import update_size
from app.hub.sse import encode
from app.hub.subscriber import Subscriber
from app.hub.transport import create_transport
from app.hub.transport.memory import DEFAULT_HISTORY_BYTES, MemoryTransport, from_url
from app.hub.update import Update
from tests.hub.transport.frames import drained_ids

BOOK = "https://example.com/books/1"


def _update(update_id: str, size: int = 100) -> Update:
    return Update((BOOK,), data="x" * size, id=update_id)


def _kept_ids(transport: MemoryTransport) -> list[str]:
    return [update.id for update, _frame in transport.kept()]


def test_kept_bytes_count_each_update_once() -> None:
    transport = MemoryTransport()
    updates = [_update(f"u{n}", size=1000 * n) for n in range(1, 5)]
    for update in updates:
        transport.dispatch(update)
    assert transport.kept_bytes == sum(update_size(update) for update in updates)
    for (kept, frame), update in zip(transport.kept(), updates, strict=True):
        assert kept.data == ""  # the frame holds the data: not a second copy
        assert (kept.id, kept.topics, kept.private) == (update.id, update.topics, update.private)
        assert frame == encode(update)


def test_the_history_frame_is_the_live_frame() -> None:
    transport = MemoryTransport()
    live = Subscriber([BOOK])
    transport.add_subscriber(live)
    transport.dispatch(_update("a", 10_000))
    ((_update_kept, frame),) = transport.kept()
    assert live.drain() is frame  # one bytes object for the history and every queue


def test_oldest_updates_go_past_the_byte_bound() -> None:
    one = update_size(_update("u0"))
    transport = MemoryTransport(history_size=100, history_bytes=3 * one)
    for n in range(5):
        transport.dispatch(_update(f"u{n}"))
        assert transport.kept_bytes <= 3 * one
    assert _kept_ids(transport) == ["u2", "u3", "u4"]
    assert transport.kept_bytes == 3 * one


def test_the_count_bound_still_holds() -> None:
    transport = MemoryTransport(history_size=2, history_bytes=1 << 30)
    for n in range(4):
        transport.dispatch(_update(f"u{n}"))
    assert _kept_ids(transport) == ["u2", "u3"]


def test_a_forgotten_id_answers_earliest_and_a_kept_one_resumes() -> None:
    one = update_size(_update("u0"))
    transport = MemoryTransport(history_bytes=2 * one)
    for n in range(4):
        transport.dispatch(_update(f"u{n}"))
    gone = Subscriber([BOOK], last_event_id="u1")
    assert transport.add_subscriber(gone) == "earliest"
    assert drained_ids(gone) == []
    kept = Subscriber([BOOK], last_event_id="u2")
    assert transport.add_subscriber(kept) == "u2"
    assert drained_ids(kept) == ["u3"]


def test_an_update_larger_than_the_bound_empties_the_history_but_is_delivered() -> None:
    transport = MemoryTransport(history_bytes=10_000)
    live = Subscriber([BOOK])
    transport.add_subscriber(live)
    transport.dispatch(_update("small"))
    transport.dispatch(_update("huge", 20_000))
    assert transport.kept() == []
    assert transport.kept_bytes == 0
    assert drained_ids(live) == ["small", "huge"]
    # No hole: resuming from before the huge update is not answered with what followed.
    resuming = Subscriber([BOOK], last_event_id="small")
    assert transport.add_subscriber(resuming) == "earliest"
    transport.dispatch(_update("after"))
    assert _kept_ids(transport) == ["after"]


def test_repeated_ids_are_unindexed_as_bytes_trim_them() -> None:
    one = update_size(_update("same"))
    transport = MemoryTransport(history_bytes=2 * one)
    for update_id in ("same", "other", "same", "last"):
        transport.dispatch(_update(update_id))
    assert _kept_ids(transport) == ["same", "last"]
    resuming = Subscriber([BOOK], last_event_id="same")
    assert transport.add_subscriber(resuming) == "same"
    assert drained_ids(resuming) == ["last"]


def test_history_bytes_zero_keeps_nothing() -> None:
    transport = MemoryTransport(history_bytes=0)
    transport.dispatch(_update("a"))
    assert transport.kept() == []
    assert transport.subscribers()[0] == "a"


def test_close_releases_the_bytes() -> None:
    transport = MemoryTransport()
    transport.dispatch(_update("a"))
    transport.close()
    assert transport.kept_bytes == 0
    assert transport.kept() == []


@pytest.mark.parametrize(
    ("url", "size", "history_bytes"),
    [
        ("memory://", 1000, DEFAULT_HISTORY_BYTES),
        ("memory://?history_bytes=4096", 1000, 4096),
        ("memory://?history_size=5&history_bytes=8MiB", 5, 8 << 20),
        ("memory://?history_bytes=0", 1000, 0),
    ],
)
def test_history_bytes_from_url(url: str, size: int, history_bytes: int) -> None:
    transport = create_transport(url)
    assert isinstance(transport, MemoryTransport)
    assert (transport.history_size, transport.history_bytes) == (size, history_bytes)


@pytest.mark.parametrize("raw", ["lots", "-1", "1MB"])
def test_bad_history_bytes_name_the_parameter_and_url(raw: str) -> None:
    with pytest.raises(ValueError, match=r"history_bytes=.*in transport URL 'memory://"):
        from_url(f"memory://?history_bytes={raw}")


def test_negative_history_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="history_bytes must be 0 or more"):
        MemoryTransport(history_bytes=-1)
