"""The SQLite transport: in-process delivery with a history that survives restarts.

``MERCURE_TRANSPORT_URL=sqlite:///var/lib/mercure/history.db?size=10000`` keeps the newest
``size`` updates (default 10000) in a local SQLite file (three slashes: a path relative
to the working directory; four: an absolute path). No server is needed; like
``memory://`` it serves ONE process: subscribers of other workers or instances never see
its updates, so gunicorn must run one worker with it (``gunicorn.conf.py`` refuses more).
Use ``redis://`` for several workers or machines.

Contracts: :meth:`SqliteTransport.dispatch` stores the update, then delivers it through
:class:`~app.hub.transport.fanout.FanOut`; a failing write raises
:class:`~app.hub.transport.base.TransportError` (503) and delivers nothing. An id that is
already stored is neither stored nor delivered again. No step switches greenlets (sqlite3
calls block briefly on a local file), so a subscriber added with a ``Last-Event-ID`` gets
the stored updates after it and every later one live, with no gap and no duplicate.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from app.hub.sse import encode
from app.hub.subscriber import EARLIEST, Subscriber
from app.hub.transport.base import TransportClosedError, TransportError
from app.hub.transport.local import LocalTransport
from app.hub.transport.sqlite_history import SqliteHistory
from app.hub.update import Update

__all__ = ["DEFAULT_SIZE", "SqliteOptions", "SqliteTransport", "from_url"]

DEFAULT_SIZE = 10_000


@dataclass(frozen=True)
class SqliteOptions:
    """A parsed ``sqlite://`` transport URL."""

    path: Path
    size: int = DEFAULT_SIZE

    @classmethod
    def from_url(cls, url: str) -> SqliteOptions:
        parts = urlsplit(url)
        example = "e.g. sqlite:///var/lib/mercure/history.db?size=10000"
        if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
            raise ValueError(f"transport URL {url!r} names no database file; {example}")
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"size"})
        if unknown:
            raise ValueError(f"transport URL {url!r} has unknown parameters {unknown}; {example}")
        raw = query.get("size", [str(DEFAULT_SIZE)])[-1]
        size = int(raw) if raw.isdigit() else 0
        if size < 1:
            raise ValueError(f"size={raw!r} in transport URL {url!r} must be a positive integer")
        return cls(path=Path(unquote(parts.path[1:])), size=size)


class SqliteTransport(LocalTransport):
    """Delivers to this process's subscribers; the history lives in ``history``."""

    def __init__(self, history: SqliteHistory) -> None:
        super().__init__(history.newest_id() or EARLIEST)
        self.history = history

    def dispatch(self, update: Update) -> None:
        if self._closed:
            raise TransportClosedError()
        try:
            stored = self.history.append(update)
        except sqlite3.Error as error:
            raise TransportError(
                f"cannot store the update in {self.history.path} ({error}); check that the "
                "file is writable and the disk not full"
            ) from error
        if stored is None:
            return
        self._last_event_id = update.id
        self._fanout.deliver(update)

    def _replay(self, subscriber: Subscriber, requested: str) -> str:
        try:
            position = 0 if requested == EARLIEST else self.history.position_of(requested)
            updates = [] if position is None else list(self.history.after(position))
        except sqlite3.Error as error:
            raise TransportError(
                f"cannot read the update history in {self.history.path} ({error})"
            ) from error
        if position is None:
            subscriber.history_dispatched(EARLIEST)
            return EARLIEST
        for update in updates:
            if subscriber.matches(update):
                subscriber.dispatch(update, encode(update), from_history=True)
        subscriber.history_dispatched(requested)
        return requested

    def _release(self) -> None:
        self.history.close()


def from_url(url: str) -> SqliteTransport:
    """Build a transport from ``sqlite:///path/history.db?size=N`` (see module)."""
    options = SqliteOptions.from_url(url)
    return SqliteTransport(SqliteHistory(options.path, options.size))
