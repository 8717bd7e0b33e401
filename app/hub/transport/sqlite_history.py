"""The update history of the SQLite transport: one table in a local database file.

Table ``mercure_history(seq INTEGER PRIMARY KEY AUTOINCREMENT, update_id TEXT, key TEXT
UNIQUE, payload TEXT)``: ``seq`` gives the total order (never reused, even after trimming),
``update_id`` is the Mercure id clients see (indexed, so a ``Last-Event-ID`` is found in
one look-up; an id may repeat), ``key`` the update's idempotency key (null when it has
none), ``payload`` the encoded update (:mod:`app.hub.transport.codec`). A file written by
an earlier version (table ``mercure_updates``, ids unique) is converted when opened.

Contracts:

* :meth:`SqliteHistory.append` stores an update and trims the table to the newest
  ``size`` rows in one transaction; an update whose key is already stored is not stored
  again.
* Durability: WAL journal with ``synchronous=NORMAL``; a committed update survives a crash
  or restart of the app (an OS crash or power loss may lose the last few).
* One process owns the file: calls are plain blocking sqlite3 calls on one connection,
  which never switch greenlets, so callers get atomic steps without a lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from app.hub.transport.codec import decode_update, encode_update
from app.hub.update import Update

__all__ = ["SqliteHistory"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mercure_history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    update_id TEXT NOT NULL,
    key TEXT UNIQUE,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mercure_history_update_id ON mercure_history (update_id, seq);
"""
_CONVERT = """
INSERT INTO mercure_history (seq, update_id, payload)
    SELECT seq, update_id, payload FROM mercure_updates ORDER BY seq;
DROP TABLE mercure_updates;
"""


class SqliteHistory:
    """The newest ``size`` updates, in order, in the SQLite file at ``path``.

    A write waits up to ``busy_timeout_ms`` for a lock held by another connection, then
    raises :class:`sqlite3.OperationalError`.
    """

    def __init__(self, path: Path | str, size: int, *, busy_timeout_ms: int = 5000) -> None:
        if size < 1:
            raise ValueError(f"the history size must be at least 1, got {size}")
        self.path = Path(path)
        self.size = size
        if str(self.path) != ":memory:" and not self.path.parent.is_dir():
            raise ValueError(
                f"cannot keep the update history in {self.path}: directory "
                f"{self.path.parent} does not exist; create it or choose another path"
            )
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.executescript(_SCHEMA)
            if self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mercure_updates'"
            ).fetchone():
                self._db.executescript(f"BEGIN IMMEDIATE; {_CONVERT} COMMIT;")
        except sqlite3.Error as error:
            raise ValueError(f"cannot use {self.path} as the update history: {error}") from error

    def append(self, update: Update) -> int | None:
        """Store ``update``; return its sequence number, or None when its key is stored."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = db.execute(
                "INSERT OR IGNORE INTO mercure_history (update_id, key, payload) VALUES (?, ?, ?)",
                (update.id, update.key, encode_update(update)),
            )
            sequence = cursor.lastrowid if cursor.rowcount == 1 else None
            if sequence is not None:
                db.execute("DELETE FROM mercure_history WHERE seq <= ?", (sequence - self.size,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return sequence

    def position_of(self, update_id: str) -> int | None:
        """Sequence number of the first stored update with ``update_id``, or None."""
        row = self._db.execute(
            "SELECT min(seq) FROM mercure_history WHERE update_id = ?", (update_id,)
        ).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def after(self, sequence: int) -> Iterator[Update]:
        """Stored updates after ``sequence`` (0: all), oldest first."""
        rows = self._db.execute(
            "SELECT payload FROM mercure_history WHERE seq > ? ORDER BY seq", (sequence,)
        ).fetchall()
        for (payload,) in rows:
            yield decode_update(payload)

    def newest_id(self) -> str | None:
        """Id of the newest stored update, or None when the history is empty."""
        row = self._db.execute(
            "SELECT update_id FROM mercure_history ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if row is None else str(row[0])

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM mercure_history").fetchone()[0])

    def close(self) -> None:
        self._db.close()
