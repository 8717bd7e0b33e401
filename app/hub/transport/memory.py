"""The in-process transport: live delivery plus a history bounded in count and in bytes.

``memory://`` serves one worker (subscribers of other workers never see its updates);
use a shared transport to run several. The history keeps the last ``history_size``
updates, and no more than ``history_bytes`` bytes of them
(``memory://?history_size=1000&history_bytes=64MiB``; ``0`` keeps none): past either
bound, the oldest updates are forgotten, one by one, so the history always holds the
newest updates and a reconnecting subscriber whose id was forgotten is told so
(``Last-Event-ID: earliest``), never handed a history with a hole. An update larger than
``history_bytes`` on its own empties the history. The bytes of an update are
:func:`~app.hub.size.update_size`: its encoded frame plus its topics.

Each update is kept once: its encoded frame (the very bytes object delivered live, which
subscribers' queues share) and a copy of the update without its ``data``, enough to match
and authorize subscribers during a replay. Indexed by id, so a reconnecting subscriber
finds its position in one look-up. An id that repeats is indexed at its first occurrence
still kept, as the reference hub resumes. The keys of the last ``max(history_size,
KEYS_KEPT)`` updates are remembered: an update whose key is among them is neither stored
nor delivered again.

Concurrency: every method runs without switching greenlets, so a subscriber added while
updates are dispatched gets the history up to now and every later update live, with no
gap and no duplicate, without any lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from itertools import islice
from urllib.parse import parse_qs, urlsplit

from app.hub.settings import DEFAULT_HISTORY_BYTES, parse_size
from app.hub.size import topics_size
from app.hub.sse import encode
from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport.base import TransportClosedError
from app.hub.transport.local import LocalTransport
from app.hub.update import Update

__all__ = ["DEFAULT_HISTORY_BYTES", "DEFAULT_HISTORY_SIZE", "MemoryTransport", "from_url"]

DEFAULT_HISTORY_SIZE = 1000
KEYS_KEPT = 1000
"""Idempotency keys remembered at least, even without history."""


class MemoryTransport(LocalTransport):
    """Delivers to this process's subscribers and remembers the last updates."""

    def __init__(
        self, history_size: int = DEFAULT_HISTORY_SIZE, history_bytes: int = DEFAULT_HISTORY_BYTES
    ) -> None:
        if history_size < 0:
            raise ValueError(f"history_size must be 0 or more, got {history_size}")
        if history_bytes < 0:
            raise ValueError(f"history_bytes must be 0 or more, got {history_bytes}")
        super().__init__()
        self.history_size = history_size
        self.history_bytes = history_bytes
        self.kept_bytes = 0
        """The bytes of the updates kept (:func:`~app.hub.size.update_size` of each)."""
        # (sequence, update without data, frame, bytes counted)
        self._history: deque[tuple[int, Update, bytes, int]] = deque()
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
        if self.history_size and self.history_bytes:
            self._keep(update, frame)
        self._fanout.deliver(update, frame)

    def kept(self) -> list[tuple[Update, bytes]]:
        """What the history holds, oldest first: each update without its ``data`` and
        its frame."""
        return [(update, frame) for _sequence, update, frame, _size in self._history]

    def _keep(self, update: Update, frame: bytes) -> None:
        """Append ``update`` to the history, then forget the oldest past either bound."""
        size = len(frame) + topics_size(update)  # update_size(update), frame in hand
        if update.data:
            update = replace(update, data="")  # the frame carries the data, once
        self._sequence += 1
        history = self._history
        history.append((self._sequence, update, frame, size))
        if update.id in self._positions:
            self._repeats[update.id] = self._repeats.get(update.id, 1) + 1
        else:
            self._positions[update.id] = self._sequence
        self.kept_bytes += size
        while history and (
            len(history) > self.history_size or self.kept_bytes > self.history_bytes
        ):
            sequence, oldest, _frame, oldest_size = history.popleft()
            self.kept_bytes -= oldest_size
            self._forget(sequence, oldest)

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
                kept for kept, later, _frame, _size in self._history if later.id == update_id
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
        for _sequence, update, frame, _size in islice(history, start, None):
            if subscriber.matches(update):
                subscriber.dispatch(update, frame, from_history=True)
        subscriber.history_dispatched(requested)
        return requested

    def _release(self) -> None:
        self._history.clear()
        self.kept_bytes = 0
        self._positions.clear()
        self._repeats.clear()
        self._keys.clear()


def from_url(url: str) -> MemoryTransport:
    """Build a transport from ``memory://[?history_size=N][&history_bytes=SIZE]``.

    ``SIZE`` is bytes, or a number with ``KiB``, ``MiB`` or ``GiB``.
    """
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
    raw_bytes = query.get("history_bytes", [str(DEFAULT_HISTORY_BYTES)])[-1]
    try:
        history_bytes = parse_size("history_bytes", raw_bytes)
    except ValueError as error:
        raise ValueError(
            f"{error} in transport URL {url!r}, e.g. memory://?history_bytes=64MiB"
        ) from None
    return MemoryTransport(history_size=size, history_bytes=history_bytes)
