"""Bounds of what a Redis transport remembers to survive a Redis that forgets."""

from __future__ import annotations

from app.hub.transport import redis_recent
from app.hub.transport.redis_recent import DeliveredKeys, RecentAppends
from app.hub.update import Update


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def update(name: str, data: str = "") -> Update:
    return Update(("https://example.com/books/1",), data=data, id=name, key=name)


def ids(appends: RecentAppends) -> list[str]:
    return [each.id for each in appends.updates()]


def test_the_window_counts_back_from_the_newest_append_not_from_now() -> None:
    clock = Clock()
    appends = RecentAppends(clock)
    appends.add(update("a"))
    clock.now += redis_recent.RESTORE_WINDOW - 1
    appends.add(update("b"))
    clock.now += 60  # an outage: nothing appended, nothing forgotten
    assert ids(appends) == ["a", "b"]
    appends.add(update("c"))
    assert ids(appends) == ["c"]


def test_appends_older_than_the_maximum_age_are_never_appended_again() -> None:
    clock = Clock()
    appends = RecentAppends(clock)
    appends.add(update("a"))
    clock.now += redis_recent.RESTORE_MAX_AGE + 1
    assert ids(appends) == []


def test_appends_are_bounded_in_count_and_bytes() -> None:
    appends = RecentAppends(Clock())
    for number in range(redis_recent.RESTORE_MAX_UPDATES + 3):
        appends.add(update(f"u{number}"))
    assert len(appends) == redis_recent.RESTORE_MAX_UPDATES
    assert ids(appends)[0] == "u3"

    big = "x" * (redis_recent.RESTORE_MAX_BYTES // 4 + 1)
    heavy = RecentAppends(Clock())
    for number in range(5):
        heavy.add(update(f"big{number}", big))
    assert ids(heavy) == ["big2", "big3", "big4"]


def test_delivered_keys_are_remembered_up_to_their_capacity() -> None:
    keys = DeliveredKeys(capacity=2)
    assert keys.first_time("a")
    assert keys.first_time("b")
    assert not keys.first_time("a")
    assert keys.first_time("c")  # forgets "a"
    assert keys.first_time("a")
    assert keys.first_time(None)
    assert keys.first_time(None)
