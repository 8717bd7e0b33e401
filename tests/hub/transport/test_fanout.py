"""The fan-out index: exact and pattern subscribers, once-only delivery, private updates."""

from __future__ import annotations

from app.hub.subscriber import Subscriber
from app.hub.transport.fanout import FanOut
from app.hub.update import Update

BOOK = "https://example.com/books/1"
BOOK_ALT = "https://example.com/b/1"
AUTHOR = "https://example.com/authors/1"
BOOKS = "https://example.com/books/{id}"


def _count(subscriber: Subscriber) -> int:
    return subscriber.drain().count(b"id: ")


def test_each_matching_subscriber_gets_an_update_exactly_once() -> None:
    fanout = FanOut()
    exact = Subscriber([BOOK, BOOK_ALT])
    template = Subscriber([BOOKS, "https://example.com/b/{id}"])
    everything = Subscriber(["*", BOOK])
    other = Subscriber([AUTHOR])
    for subscriber in (exact, template, everything, other):
        fanout.add(subscriber)
    delivered = fanout.deliver(Update((BOOK, BOOK_ALT), id="u"))
    assert delivered == 3
    assert [_count(s) for s in (exact, template, everything, other)] == [1, 1, 1, 0]


def test_subscribers_sharing_a_template_are_grouped() -> None:
    fanout = FanOut()
    group = [Subscriber([BOOKS]) for _ in range(5)]
    for subscriber in group:
        fanout.add(subscriber)
    assert fanout.deliver(Update((BOOK,))) == 5
    assert fanout.deliver(Update((AUTHOR,))) == 0


def test_private_updates_reach_only_authorized_subscribers() -> None:
    fanout = FanOut()
    anonymous = Subscriber([BOOK])
    unscoped = Subscriber([BOOK], allowed_private=())
    wrong = Subscriber([BOOKS], allowed_private=(AUTHOR,))
    right = Subscriber([BOOKS], allowed_private=(BOOKS,))
    for subscriber in (anonymous, unscoped, wrong, right):
        fanout.add(subscriber)
    assert fanout.deliver(Update((BOOK,), private=True)) == 1
    assert [_count(s) for s in (anonymous, unscoped, wrong, right)] == [0, 0, 0, 1]


def test_add_and_remove_are_idempotent_and_counted() -> None:
    fanout = FanOut()
    exact, pattern = Subscriber([BOOK, AUTHOR]), Subscriber(["*"])
    for subscriber in (exact, exact, pattern, pattern):
        fanout.add(subscriber)
    assert len(fanout) == 2
    assert set(fanout) == {exact, pattern}
    fanout.remove(exact)
    fanout.remove(exact)
    assert len(fanout) == 1
    assert fanout.deliver(Update((BOOK,))) == 1
    fanout.remove(pattern)
    assert len(fanout) == 0
    assert fanout.deliver(Update((BOOK,))) == 0


def test_closed_subscribers_are_not_counted() -> None:
    fanout = FanOut()
    subscriber = Subscriber([BOOK])
    fanout.add(subscriber)
    subscriber.disconnect()
    assert fanout.deliver(Update((BOOK,))) == 0


def test_the_frame_given_is_the_frame_delivered() -> None:
    fanout = FanOut()
    subscriber = Subscriber([BOOK])
    fanout.add(subscriber)
    fanout.deliver(Update((BOOK,)), b"precomputed")
    assert subscriber.drain() == b"precomputed"
