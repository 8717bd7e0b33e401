"""The in-process transport: live delivery plus a bounded in-memory history.

``memory://`` serves one worker (subscribers of other workers never see its updates);
use a shared transport to run several. The history keeps the last ``history_size``
updates with their encoded frames (``memory://?history_size=1000``; ``0`` keeps none),
indexed by id so a reconnecting subscriber finds its position in one look-up.

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


class MemoryTransport(LocalTransport):
    """Delivers to this process's subscribers and remembers the last updates."""

    def __init__(self, history_size: int = DEFAULT_HISTORY_SIZE) -> None:
        if history_size < 0:
            raise ValueError(f"history_size must be 0 or more, got {history_size}")
        super().__init__()
        self.history_size = history_size
        self._history: deque[tuple[int, Update, bytes]] = deque()
        self._positions: dict[str, int] = {}
        self._sequence = 0

    def dispatch(self, update: Update) -> None:
        if self._closed:
            raise TransportClosedError()
        frame = encode(update)
        self._last_event_id = update.id
        if self.history_size:
            self._sequence += 1
            self._history.append((self._sequence, update, frame))
            self._positions[update.id] = self._sequence
            if len(self._history) > self.history_size:
                sequence, old, _frame = self._history.popleft()
                if self._positions.get(old.id) == sequence:
                    del self._positions[old.id]
        self._fanout.deliver(update, frame)

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
