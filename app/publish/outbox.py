"""The transactional outbox: committed updates, in the app's own database, until relayed.

Tables (:mod:`app.models.outbox`, in every app's metadata, so migrations create them
beside the resources):

- ``mercure_outbox``: one row per update waiting for its hub, written by
  :meth:`Outbox.stage` in the very transaction of the change it describes, so a committed
  change always has its row and a rolled-back one never has. ``seq`` orders the rows; two
  changes of one item are ordered by it, because the second waits for the first's row
  lock and writes its row after the first committed. ``key`` is the update's stable
  idempotency key (the hub keeps an update once per key); ``update_id`` the SSE id, fixed
  when the row is written. A row leaves the table once its hub took the update; a row the
  hub refused for good stays with status ``rejected`` for inspection.
- ``mercure_relay_lease``: which process relays the backlog of each hub (see
  :mod:`app.publish.relay`), so only one does, in ``seq`` order.

Every method but :meth:`stage` runs in a short transaction of its own on ``engine``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.hub.update import Update, new_key
from app.models.outbox import outbox_tables

__all__ = ["Outbox", "Queued"]

BATCH = 500
"""Rows read at once by a relay."""
BACKLOG_TIMEOUT_MS = 2000
"""How long :func:`backlog` may take on PostgreSQL, waiting for a lock included (a migration
holds one on the table): a metrics scrape then answers without the outbox gauges, well
within Prometheus's default scrape timeout (10 s), instead of waiting as long as the lock."""


@dataclass(frozen=True)
class Queued:
    """One row: the hub, the update (its ``key`` names the row) and the failed attempts."""

    hub: str
    update: Update
    attempts: int = 0
    created_at: float = 0.0
    behind: bool = False
    """Staged behind an older pending row of its hub (seen in the staging transaction)."""

    @property
    def key(self) -> str:
        assert self.update.key is not None
        return self.update.key


class Outbox:
    """Reads and writes the outbox tables (:func:`app.models.outbox.outbox_tables`) on the
    engine given to :meth:`bind`."""

    def __init__(self, table: sa.Table, leases: sa.Table) -> None:
        self.table = table
        self.leases = leases
        self._engine: sa.Engine | None = None
        self._stage_statement: _StageStatement | None = None
        self._delete_statement = table.delete().where(
            table.c.key.in_(sa.bindparam("keys", expanding=True))
        )

    def bind(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._stage_statement = _StageStatement(self.table, engine.dialect)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            raise RuntimeError("the outbox is not bound to an engine")
        return self._engine

    def stage(
        self,
        session: Session,
        hub: str,
        updates: Sequence[Update],
        *,
        settled: Collection[str] = (),
    ) -> list[Queued]:
        """Write ``updates`` for ``hub`` in ``session``'s transaction, in order; return
        them as queued rows, each with its key (a fresh one if it had none), marked
        ``behind`` when an older row of the hub is pending (seen in the same transaction).
        ``settled``: keys of rows known to be relayed already, whose deletion is on its way
        (not pending for this check).

        One statement per row, on the session's connection (see :class:`_StageStatement`):
        the insert returns whether another row of the hub is pending (a subquery in
        ``RETURNING``), so no ``SELECT`` follows it.
        """
        if self._stage_statement is None:
            raise RuntimeError("the outbox is not bound to an engine")
        now = time.time()
        keyed = [_with_key(update) for update in updates]
        if not keyed:
            return []
        # The first row tells: the others of the transaction are behind it anyway.
        params = {
            "hub": hub,
            "created_at": now,
            "of_hub": hub,
            "own_key": keyed[0].key,
            "settled": _json_strings(settled),
        }
        connection = session.connection()
        statement = self._stage_statement
        found = [statement.execute(connection, {**_row(update), **params}) for update in keyed]
        behind = found[0]
        return [Queued(hub, update, created_at=now, behind=behind) for update in keyed]

    def pending(
        self, hub: str, *, older_than: float | None = None, limit: int = BATCH
    ) -> list[Queued]:
        """The oldest pending rows of ``hub``, oldest first; ``older_than``: only rows
        written before that time (``time.time()`` seconds)."""
        table = self.table
        query = (
            sa.select(table)
            .where(table.c.hub == hub, table.c.status == "pending")
            .order_by(table.c.seq)
            .limit(limit)
        )
        if older_than is not None:
            query = query.where(table.c.created_at < older_than)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            Queued(
                hub=hub,
                update=Update(
                    topics=tuple(json.loads(row["topics"])),
                    data=row["data"],
                    private=row["private"],
                    id=row["update_id"],
                    type=row["type"],
                    retry=row["retry"],
                    key=row["key"],
                ),
                attempts=row["attempts"],
                created_at=row["created_at"],
            )
            for row in rows
        ]

    def remaining(self, keys: Iterable[str]) -> set[str]:
        """Which of ``keys`` are still pending."""
        chosen = list(keys)
        if not chosen:
            return set()
        table = self.table
        query = sa.select(table.c.key).where(table.c.key.in_(chosen), table.c.status == "pending")
        with self.engine.connect() as connection:
            return set(connection.execute(query).scalars())

    def delete(self, keys: Iterable[str]) -> None:
        """Forget relayed rows."""
        chosen = list(keys)
        if chosen:
            with self.engine.begin() as connection:
                connection.execute(self._delete_statement, {"keys": chosen})

    def failed(self, key: str, error: str, *, final: bool = False) -> None:
        """Count a failed attempt; ``final`` marks the row ``rejected`` (never retried)."""
        values: dict[str, object] = {
            "attempts": self.table.c.attempts + 1,
            "last_error": error[:1000],
        }
        if final:
            values["status"] = "rejected"
        with self.engine.begin() as connection:
            connection.execute(self.table.update().where(self.table.c.key == key).values(**values))

    def acquire(self, hub: str, owner: str, ttl: float) -> bool:
        """Take or renew the relay lease of ``hub`` for ``ttl`` seconds; ``False`` while
        another live owner holds it."""
        now = time.time()
        leases = self.leases
        dialect = self.engine.dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(leases)
        statement = insert.values(hub=hub, owner=owner, expires_at=now + ttl)
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.hub],
            set_={"owner": owner, "expires_at": now + ttl},
            where=sa.or_(leases.c.owner == owner, leases.c.expires_at < now),
        )
        with self.engine.begin() as connection:
            connection.execute(statement)
            holder = connection.execute(
                sa.select(leases.c.owner).where(leases.c.hub == hub)
            ).scalar()
        return holder == owner

    def release(self, hub: str, owner: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                self.leases.delete().where(self.leases.c.hub == hub, self.leases.c.owner == owner)
            )


def backlog(engine: sa.Engine) -> list[tuple[str, str, int, float | None]]:
    """The outbox's rows by (hub, status): ``(hub, status, count, oldest created_at)``, read
    with one grouped query (for metrics; the ``(hub, status, seq)`` index serves it). On
    PostgreSQL the query is cancelled (an ``OperationalError``) past
    :data:`BACKLOG_TIMEOUT_MS`."""
    table = outbox_tables(sa.MetaData())[0]
    query = sa.select(
        table.c.hub, table.c.status, sa.func.count(), sa.func.min(table.c.created_at)
    ).group_by(table.c.hub, table.c.status)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":  # for this transaction only
            connection.execute(sa.text(f"SET LOCAL statement_timeout = {BACKLOG_TIMEOUT_MS}"))
        rows = connection.execute(query).all()
    return [
        (str(hub), str(status), int(count), None if oldest is None else float(oldest))
        for hub, status, count, oldest in rows
    ]


def _stage_statement(table: sa.Table, dialect: str) -> sa.Insert:
    """The ``INSERT`` of one row returning ``behind``: whether a row of the hub
    ``of_hub`` other than ``own_key`` and the keys of the JSON array ``settled`` is
    pending."""
    older = table.alias("older")
    keys = sa.bindparam("settled", type_=sa.Text())
    if dialect == "postgresql":
        settled = sa.select(sa.func.json_array_elements_text(sa.cast(keys, postgresql.JSON)))
    else:
        settled = sa.select(sa.column("value")).select_from(sa.func.json_each(keys))
    pending = sa.exists().where(
        older.c.hub == sa.bindparam("of_hub"),
        older.c.status == "pending",
        older.c.key != sa.bindparam("own_key"),
        older.c.key.not_in(settled),
    )
    return table.insert().returning(pending.label("behind"))


class _StageStatement:
    """The insert of :func:`_stage_statement`, compiled once for ``dialect`` and executed on
    the DB-API cursor of the session's connection, inside its transaction.

    It is the one statement every write adds (one per update), so it skips what
    ``Connection.execute`` does per call and this statement does not need: the compiled
    cache lookup, the parameters' processing (its values are strings, numbers, booleans
    and ``None``, which both drivers take as they are) and the result's metadata. A driver
    error goes through SQLAlchemy's own handler, the one ``Connection.execute`` calls
    (``Connection._handle_dbapi_exception``; tests pin what it does here): the engine's
    ``handle_error`` events see it (the schema drift hint), it is raised as SQLAlchemy's
    exception type, and a lost connection invalidates the connection and the pool. Only
    SQLAlchemy's logging of statements does not see this one.
    """

    def __init__(self, table: sa.Table, dialect: sa.Dialect) -> None:
        compiled = _stage_statement(table, dialect.name).compile(
            dialect=dialect, column_keys=list(_STAGED_COLUMNS)
        )
        self.sql = compiled.string
        # The literals of the statement (its ``status = 'pending'``), bound as parameters.
        self._constants = {
            name: bind.value for name, bind in compiled.binds.items() if bind.value is not None
        }
        self._order = tuple(compiled.positiontup or ()) if compiled.positional else None

    def execute(self, connection: sa.Connection, values: dict[str, object]) -> bool:
        """Insert one row of ``values`` (every column of :data:`_STAGED_COLUMNS` and the
        check's parameters); return whether another row of its hub is pending."""
        merged = {**self._constants, **values}
        params: Mapping[str, object] | list[object] = (
            merged if self._order is None else [merged[name] for name in self._order]
        )
        dbapi_connection = connection.connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute(self.sql, params)
            row = cursor.fetchone()
        except BaseException as error:  # as Connection.execute catches them
            connection._handle_dbapi_exception(error, self.sql, merged, cursor, None)
        finally:
            if cursor is not None:
                with contextlib.suppress(Exception):  # a lost connection's cursor
                    cursor.close()
        return row is None or bool(row[0])  # no answer: behind, the safe side


_STAGED_COLUMNS = (
    "key",
    "update_id",
    "topics",
    "data",
    "private",
    "type",
    "retry",
    "hub",
    "created_at",
)
"""The columns :meth:`Outbox.stage` writes (the others take their defaults)."""


def _json_strings(strings: Collection[str]) -> str:
    """``json.dumps(list(strings))``; keys made of letters and digits (the hex keys of
    :func:`~app.hub.update.new_key`) need no escaping and are joined directly."""
    if all(map(str.isalnum, strings)):
        return '["' + '","'.join(strings) + '"]' if strings else "[]"
    return json.dumps(list(strings))


def _with_key(update: Update) -> Update:
    if update.key is not None:
        return update
    return Update(
        topics=update.topics,
        data=update.data,
        private=update.private,
        id=update.id,
        type=update.type,
        retry=update.retry,
        key=new_key(),
    )


def _row(update: Update) -> dict[str, object]:
    return {
        "key": update.key,
        "update_id": update.id,
        "topics": json.dumps(list(update.topics)),
        "data": update.data,
        "private": update.private,
        "type": update.type,
        "retry": update.retry,
    }
