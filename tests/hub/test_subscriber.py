"""The subscriber: matching and authorization, bounded queue, history without gap or dup."""

from __future__ import annotations

import pytest

from app.hub.sse import encode
from app.hub.subscriber import DRAIN_CHUNK, Subscriber
from app.hub.update import Update

BOOK = "https://example.com/books/1"
OTHER = "https://example.com/authors/1"
USER_ALTERNATE = "https://example.com/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1"


def _update(update_id: str, *topics: str, private: bool = False) -> Update:
    return Update(topics or (BOOK,), data=update_id, id=update_id, private=private)


@pytest.mark.parametrize(
    ("selectors", "allowed", "update", "expected"),
    [
        # public updates: any requested selector matching any update topic
        ([BOOK], None, _update("1"), True),
        ([OTHER], None, _update("1"), False),
        (["https://example.com/books/{id}"], None, _update("1"), True),
        (["*"], None, _update("1"), True),
        ([OTHER], None, _update("1", BOOK, OTHER), True),
        # private updates: anonymous subscribers never get them
        (["*"], None, _update("1", private=True), False),
        ([BOOK], None, _update("1", private=True), False),
        # a token without matching subscribe selectors does not either
        ([BOOK], (), _update("1", private=True), False),
        ([BOOK], (OTHER,), _update("1", private=True), False),
        # an authorized token does
        ([BOOK], (BOOK,), _update("1", private=True), True),
        ([BOOK], ("*",), _update("1", private=True), True),
        (["*"], ("https://example.com/books/{id}",), _update("1", private=True), True),
        # authorization through an alternate topic (spec example)
        (
            ["https://example.com/books/{id}"],
            ("https://example.com/users/foo/{?topic}",),
            _update("1", BOOK, USER_ALTERNATE, private=True),
            True,
        ),
        # authorized but not subscribed: no
        ([OTHER], ("*",), _update("1", private=True), False),
    ],
)
def test_matches(
    selectors: list[str], allowed: tuple[str, ...] | None, update: Update, expected: bool
) -> None:
    assert Subscriber(selectors, allowed_private=allowed).matches(update) is expected


def test_needs_a_selector() -> None:
    with pytest.raises(ValueError, match="at least one topic selector"):
        Subscriber([])


def test_exact_only_is_known() -> None:
    assert Subscriber([BOOK, OTHER]).exact_only
    assert not Subscriber([BOOK, "*"]).exact_only
    assert not Subscriber(["https://example.com/{x}"]).exact_only


def test_drain_joins_every_queued_frame_in_order() -> None:
    subscriber = Subscriber([BOOK])
    first, second = _update("1"), _update("2")
    subscriber.dispatch(first, encode(first))
    subscriber.dispatch(second, encode(second))
    assert subscriber.wait(0)
    assert subscriber.drain() == encode(first) + encode(second)
    assert subscriber.drain() == b""
    assert not subscriber.wait(0)


def test_overflow_disconnects_and_drops_the_queue() -> None:
    subscriber = Subscriber([BOOK], max_queue=2)
    updates = [_update(str(n)) for n in range(3)]
    assert subscriber.dispatch(updates[0], encode(updates[0]))
    assert subscriber.dispatch(updates[1], encode(updates[1]))
    assert not subscriber.dispatch(updates[2], encode(updates[2]))
    assert subscriber.overflowed
    assert subscriber.closed
    assert subscriber.drain() == b""
    assert subscriber.wait(0)
    assert not subscriber.dispatch(updates[0], encode(updates[0]))


def test_history_first_then_buffered_live_without_duplicates() -> None:
    subscriber = Subscriber([BOOK], last_event_id="0")
    one, two, three = _update("1"), _update("2"), _update("3")
    # Live updates arrive while history is being read...
    subscriber.dispatch(two, encode(two))
    subscriber.dispatch(three, encode(three))
    assert subscriber.drain() == b""
    # ...and history overlaps them.
    subscriber.dispatch(one, encode(one), from_history=True)
    subscriber.dispatch(two, encode(two), from_history=True)
    subscriber.history_dispatched("0")
    assert subscriber.response_last_event_id == "0"
    assert subscriber.drain() == encode(one) + encode(two) + encode(three)


def test_history_replay_does_not_count_against_the_live_queue() -> None:
    subscriber = Subscriber([BOOK], last_event_id="earliest", max_queue=2)
    for n in range(10):
        update = _update(str(n))
        subscriber.dispatch(update, encode(update), from_history=True)
    subscriber.history_dispatched("earliest")
    live = _update("live")
    assert subscriber.dispatch(live, encode(live))
    assert not subscriber.closed
    assert subscriber.drain().count(b"id: ") == 11


def test_live_frames_buffered_during_a_replay_are_bounded_by_the_queue_size() -> None:
    """While history is read, live updates wait in a buffer: past ``max_queue`` of them the
    subscriber is disconnected (its client reconnects with Last-Event-ID), as a slow one is."""
    subscriber = Subscriber([BOOK], last_event_id="earliest", max_queue=3)
    live = [_update(f"live-{n}") for n in range(4)]
    assert all(subscriber.dispatch(update, encode(update)) for update in live[:3])
    assert not subscriber.closed
    assert not subscriber.dispatch(live[3], encode(live[3]))
    assert subscriber.overflowed
    assert subscriber.closed
    subscriber.history_dispatched("earliest")
    assert subscriber.drain() == b""


def test_info_exposes_id_topics_and_payload() -> None:
    subscriber = Subscriber([BOOK, BOOK, OTHER], payload={"user": 1}, subscriber_id="urn:x")
    info = subscriber.info
    assert (info.id, info.topics, info.payload) == ("urn:x", (BOOK, OTHER), {"user": 1})
    assert type(info).from_dict(info.to_dict()) == info


def _drain_all(subscriber: Subscriber) -> list[bytes]:
    chunks = []
    while chunk := subscriber.drain():
        chunks.append(chunk)
    return chunks


def test_a_large_update_is_handed_out_in_bounded_pieces() -> None:
    subscriber = Subscriber([BOOK])
    large = Update((BOOK,), data="x" * (5 * DRAIN_CHUNK + 123), id="large")
    small = _update("small")
    subscriber.dispatch(large, encode(large))
    subscriber.dispatch(small, encode(small))
    chunks = _drain_all(subscriber)
    assert all(len(chunk) <= DRAIN_CHUNK for chunk in chunks)
    assert b"".join(chunks) == encode(large) + encode(small)
    assert subscriber.queued_bytes == 0


def test_a_replayed_history_is_handed_out_in_bounded_pieces_before_live_frames() -> None:
    subscriber = Subscriber([BOOK], last_event_id="earliest", max_queue_bytes=1)
    history = [Update((BOOK,), data=str(n) * DRAIN_CHUNK, id=str(n)) for n in range(3)]
    for update in history:
        subscriber.dispatch(update, encode(update), from_history=True)
    subscriber.history_dispatched("earliest")
    live = _update("live")
    assert subscriber.dispatch(live, encode(live))  # the history is not in the live bound
    chunks = _drain_all(subscriber)
    assert all(len(chunk) <= DRAIN_CHUNK for chunk in chunks)
    assert b"".join(chunks) == b"".join(encode(u) for u in [*history, live])


def test_queued_bytes_past_the_bound_disconnect_a_slow_subscriber() -> None:
    first, second = (Update((BOOK,), data="y" * 1000, id=str(n)) for n in range(2))
    subscriber = Subscriber([BOOK], max_queue_bytes=1500)
    assert subscriber.dispatch(first, encode(first))  # an empty queue takes any frame
    assert not subscriber.dispatch(second, encode(second))
    assert subscriber.overflowed
    assert subscriber.closed
    lone = Subscriber([BOOK], max_queue_bytes=10)
    assert lone.dispatch(first, encode(first))
    assert not lone.closed
