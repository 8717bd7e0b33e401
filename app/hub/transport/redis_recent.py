"""What a Redis transport remembers of the last seconds, to survive a Redis that forgets.

A Redis server restarted without persistence (or a flushed database) loses the entries
appended just before it went away; readers may not have read them yet. Each transport
therefore remembers what it appended recently (:class:`RecentAppends`) and, once it sees
that its last append is gone, appends again those its own reader had not delivered; each
reader remembers the keys it delivered recently (:class:`DeliveredKeys`), so that an
update appended again reaches the subscribers that missed it and nobody twice.

Both are bounded in count (and the appends in bytes); neither does I/O or switches
greenlets.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from app.hub.update import Update

__all__ = ["DeliveredKeys", "RecentAppends"]

RESTORE_WINDOW = 5.0
"""Seconds of appends, counted back from the newest one, appended again after a reset."""
RESTORE_MAX_AGE = 300.0
"""Appends older than this (wall time) are never appended again."""
RESTORE_MAX_UPDATES = 5_000
RESTORE_MAX_BYTES = 16 * 1024 * 1024
DELIVERED_KEYS = 20_000
"""How many delivered keys a reader remembers: more than every worker's restore at once
under the write rates one Redis stream serves."""


class RecentAppends:
    """The updates this transport appended in the last :data:`RESTORE_WINDOW` seconds
    before its newest append, oldest first.

    The window is counted back from the newest append, not from now, so an outage (during
    which nothing is appended) does not empty it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: deque[tuple[float, int, Update]] = deque()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, update: Update) -> None:
        """Remember ``update``, just appended."""
        now = self._clock()
        size = len(update.data)
        self._entries.append((now, size, update))
        self._bytes += size
        entries = self._entries
        while entries and (
            entries[0][0] < now - RESTORE_WINDOW
            or len(entries) > RESTORE_MAX_UPDATES
            or self._bytes > RESTORE_MAX_BYTES
        ):
            self._bytes -= entries.popleft()[1]

    def updates(self) -> list[Update]:
        """The remembered updates still young enough to append again, oldest first."""
        oldest = self._clock() - RESTORE_MAX_AGE
        return [update for appended, _size, update in self._entries if appended >= oldest]


class DeliveredKeys:
    """The keys of the last :data:`DELIVERED_KEYS` updates a reader delivered."""

    def __init__(self, capacity: int = DELIVERED_KEYS) -> None:
        self._capacity = capacity
        self._order: deque[str] = deque()
        self._known: set[str] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._known

    def first_time(self, key: str | None) -> bool:
        """True, and remember ``key``, unless an update with this key was delivered
        recently. Updates without a key are always delivered."""
        if key is None:
            return True
        known = self._known
        if key in known:
            return False
        known.add(key)
        self._order.append(key)
        if len(self._order) > self._capacity:
            known.discard(self._order.popleft())
        return True
