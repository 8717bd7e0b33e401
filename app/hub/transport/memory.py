"""The in-process transport: live delivery plus a bounded in-memory history.

``memory://`` serves one worker (subscribers of other workers never see its updates);
use a shared transport to run several. The history keeps the last ``history_size``
updates with their encoded frames (``memory://?history_size=1000``; ``0`` keeps none),
indexed by id so a reconnecting subscriber finds its position in one look-up. An id that
repeats is indexed at its first occurrence still kept, as the reference hub resumes. The
keys of the last ``max(history_size, KEYS_KEPT)`` updates are remembered: an update whose
key is among them is neither stored nor delivered again.

Concurrency: every method runs without switching greenlets, so a subscriber added while
updates are dispatched gets the history up to now and every later update live, with no
gap and no duplicate, without any lock.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from urllib.parse import parse_qs, urlsplit

from app.hub.sse import encode
from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport.base import TransportClosedError
from app.hub.transport.local import LocalTransport
from app.hub.update import Update

__all__ = ["DEFAULT_HISTORY_SIZE", "MemoryTransport", "from_url"]

DEFAULT_HISTORY_SIZE = 1000
KEYS_KEPT = 1000
"""Idempotency keys remembered at least, even without history."""


class MemoryTransport(LocalTransport):
    """Delivers to this process's subscribers and remembers the last updates."""

    def __init__(self, history_size: int = DEFAULT_HISTORY_SIZE) -> None:
        if history_size < 0:
            raise ValueError(f"history_size must be 0 or more, got {history_size}")
        super().__init__()
        self.history_size = history_size
        self._history: deque[tuple[int, Update, bytes]] = deque()
        self._positions: dict[str, int] = {}
        self._repeats: dict[str, int] = {}  # occurrences kept of the ids seen more than once
        self._keys: dict[str, None] = {}  # insertion-ordered: the oldest key first
        self._keys_kept = max(history_size, KEYS_KEPT)
        self._sequence = 0

    def dispatch(self, update: Update) -> None:
        if self._closed:
            raise TransportClosedError()
        if update.key is not None:
            if update.key in self._keys:
                return
            self._keys[update.key] = None
            if len(self._keys) > self._keys_kept:
                del self._keys[next(iter(self._keys))]
        frame = encode(update)
        self._last_event_id = update.id
        if self.history_size:
            self._sequence += 1
            self._history.append((self._sequence, update, frame))
            if update.id in self._positions:
                self._repeats[update.id] = self._repeats.get(update.id, 1) + 1
            else:
                self._positions[update.id] = self._sequence
            if len(self._history) > self.history_size:
                self._forget(*self._history.popleft()[:2])
        self._fanout.deliver(update, frame)

    def _forget(self, sequence: int, update: Update) -> None:
        """Unindex the trimmed ``update``; a repeated id moves to its next occurrence."""
        update_id = update.id
        count = self._repeats.get(update_id)
        if count is None:
            del self._positions[update_id]
            return
        if count == 2:
            del self._repeats[update_id]
        else:
            self._repeats[update_id] = count - 1
        if self._positions[update_id] == sequence:
            self._positions[update_id] = next(
                kept for kept, later, _frame in self._history if later.id == update_id
            )

    def _replay(self, subscriber: Subscriber, requested: str) -> str:
        history = self._history
        if requested == EARLIEST:
            start = 0
        else:
            position = self._positions.get(requested)
            if position is None:
                subscriber.history_dispatched(EARLIEST)
                return EARLIEST
            start = position - history[0][0] + 1
        for _sequence, update, frame in islice(history, start, None):
            if subscriber.matches(update):
                subscriber.dispatch(update, frame, from_history=True)
        subscriber.history_dispatched(requested)
        return requested

    def _release(self) -> None:
        self._history.clear()
        self._positions.clear()
        self._repeats.clear()
        self._keys.clear()


def from_url(url: str) -> MemoryTransport:
    """Build a transport from ``memory://[?history_size=N]``."""
    query = parse_qs(urlsplit(url).query)
    raw = query.get("history_size", [str(DEFAULT_HISTORY_SIZE)])[-1]
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(
            f"history_size={raw!r} in transport URL {url!r} is not an integer; "
            "use e.g. memory://?history_size=1000"
        ) from None
    if size < 0:
        raise ValueError(f"history_size in transport URL {url!r} must be 0 or more")
    return MemoryTransport(history_size=size)
