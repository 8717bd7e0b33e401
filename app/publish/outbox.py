"""A durable queue of updates waiting for an external hub, in one SQLite file.

Updates are written right after the database commit and deleted only once the hub
accepted them, so they survive the hub being down and a restart of the app. Rows keep the
update id fixed at creation: a re-sent update carries the same id. Several processes may
share the file (gunicorn workers): writes are single statements or ``BEGIN IMMEDIATE``
transactions, and one sender per hub at a time holds a renewable lease, which keeps the
delivery order. Rows a hub rejected for good stay in the file with status ``rejected``
for inspection.

SQLite calls are short and do not yield to other greenlets; one connection per instance.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.hub.update import Update

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hub TEXT NOT NULL,
    update_id TEXT NOT NULL,
    topics TEXT NOT NULL,
    data TEXT NOT NULL,
    private INTEGER NOT NULL,
    type TEXT,
    retry INTEGER,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (hub, status, seq);
CREATE TABLE IF NOT EXISTS sender_lease (
    hub TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Queued:
    """One queued update; ``attempts`` counts failed deliveries so far."""

    seq: int
    update: Update
    attempts: int


class Outbox:
    """The queue file at ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.path, timeout=10, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def push(self, hub: str, updates: Sequence[Update]) -> None:
        """Append ``updates`` for ``hub`` atomically, in order."""
        now = time.time()
        rows = [
            (
                hub,
                u.id,
                json.dumps(list(u.topics)),
                u.data,
                int(u.private),
                u.type,
                u.retry,
                now,
            )
            for u in updates
        ]
        with self._transaction():
            self._db.executemany(
                "INSERT INTO outbox (hub, update_id, topics, data, private, type, retry,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def head(self, hub: str, limit: int = 100) -> list[Queued]:
        """The oldest pending updates of ``hub``, oldest first."""
        cursor = self._db.execute(
            "SELECT seq, update_id, topics, data, private, type, retry, attempts FROM outbox"
            " WHERE hub = ? AND status = 'pending' ORDER BY seq LIMIT ?",
            (hub, limit),
        )
        return [
            Queued(
                seq=seq,
                update=Update(
                    topics=tuple(json.loads(topics)),
                    data=data,
                    private=bool(private),
                    id=update_id,
                    type=type_,
                    retry=retry,
                ),
                attempts=attempts,
            )
            for seq, update_id, topics, data, private, type_, retry, attempts in cursor
        ]

    def pending(self, hub: str) -> int:
        """How many updates wait for ``hub``."""
        row = self._db.execute(
            "SELECT count(*) FROM outbox WHERE hub = ? AND status = 'pending'", (hub,)
        ).fetchone()
        return int(row[0])

    def delivered(self, seq: int) -> None:
        self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def failed(self, seq: int, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            (error, seq),
        )

    def rejected(self, seq: int, error: str) -> None:
        self._db.execute(
            "UPDATE outbox SET status = 'rejected', attempts = attempts + 1, last_error = ?"
            " WHERE seq = ?",
            (error, seq),
        )

    def acquire(self, hub: str, owner: str, ttl: float) -> bool:
        """Take or renew the sender lease of ``hub`` for ``ttl`` seconds; ``False`` while
        another live owner holds it."""
        now = time.time()
        with self._transaction():
            self._db.execute(
                "INSERT INTO sender_lease (hub, owner, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (hub) DO UPDATE SET owner = excluded.owner,"
                " expires_at = excluded.expires_at"
                " WHERE sender_lease.owner = excluded.owner OR sender_lease.expires_at < ?",
                (hub, owner, now + ttl, now),
            )
            row = self._db.execute(
                "SELECT owner FROM sender_lease WHERE hub = ?", (hub,)
            ).fetchone()
        return row is not None and row[0] == owner

    def release(self, hub: str, owner: str) -> None:
        self._db.execute("DELETE FROM sender_lease WHERE hub = ? AND owner = ?", (hub, owner))

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._db.execute("COMMIT" if error is None else "ROLLBACK")
