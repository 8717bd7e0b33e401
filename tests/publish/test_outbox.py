"""The outbox tables on SQLite and PostgreSQL: rows commit and roll back with their
transaction, come back in order with their ids and keys, and one relay holds a lease."""

from __future__ import annotations

import time
from dataclasses import replace

import gevent
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.publish.outbox import Outbox, backlog
from tests.publish.conftest import TOPIC, updates


def test_staged_rows_commit_with_their_transaction_in_order(outbox: Outbox) -> None:
    with Session(outbox.engine) as session:
        staged = outbox.stage(session, "default", updates("a", "b"))
        assert outbox.pending("default") == []  # not visible before the commit
        session.commit()
    with Session(outbox.engine) as session:
        outbox.stage(session, "default", updates("c"))
        session.commit()
    rows = outbox.pending("default")
    assert [row.update.id for row in rows] == ["a", "b", "c"]
    assert [row.update for row in rows[:2]] == [row.update for row in staged]
    assert rows[0].update.topics == (TOPIC, f"{TOPIC}/alt")
    assert (rows[0].update.type, rows[0].update.retry, rows[0].update.data) == ("t", 5, "data a")
    assert len({row.key for row in rows}) == 3


def test_a_rolled_back_transaction_leaves_no_row(outbox: Outbox) -> None:
    with Session(outbox.engine) as session:
        outbox.stage(session, "default", updates("lost"))
        session.rollback()
    assert outbox.pending("default") == []


def test_rows_of_other_hubs_and_older_rows(outbox: Outbox) -> None:
    with Session(outbox.engine) as session:
        outbox.stage(session, "default", updates("a"))
        outbox.stage(session, "backup", updates("b"))
        session.commit()
    assert [row.update.id for row in outbox.pending("backup")] == ["b"]
    assert outbox.pending("default", older_than=time.time() - 60) == []
    assert [r.update.id for r in outbox.pending("default", older_than=time.time() + 1)] == ["a"]


def test_a_row_is_behind_pending_rows_of_its_hub_but_not_relayed_ones(outbox: Outbox) -> None:
    with Session(outbox.engine) as session:
        first = outbox.stage(session, "default", updates("a", "b"))
        session.commit()
    assert [row.behind for row in first] == [False, False]  # its own rows do not count
    with Session(outbox.engine) as session:
        assert outbox.stage(session, "backup", updates("other hub"))[0].behind is False
        assert outbox.stage(session, "default", updates("c"))[0].behind is True
        session.rollback()
    relayed = [row.key for row in first]
    with Session(outbox.engine) as session:
        # Relayed, their deletion on its way: no later row waits behind them.
        assert outbox.stage(session, "default", updates("d"), settled=relayed)[0].behind is False
        assert outbox.stage(session, "default", updates("e"), settled=relayed[:1])[0].behind
        session.rollback()


def test_a_staging_error_is_handled_as_sqlalchemy_handles_it(outbox: Outbox) -> None:
    """The staging insert runs on the driver's cursor: its errors still reach the engine's
    ``handle_error`` events (the schema drift hint listens there) and come as SQLAlchemy's
    types (the REST layer answers by them), and the transaction rolls back."""
    first = replace(updates("a")[0], key="0123456789abcdef")
    with Session(outbox.engine) as session:
        outbox.stage(session, "default", [first])
        session.commit()
    seen: list[str | None] = []
    sa.event.listen(outbox.engine, "handle_error", lambda context: seen.append(context.statement))
    with Session(outbox.engine) as session:
        with pytest.raises(sa.exc.IntegrityError) as raised:
            outbox.stage(session, "default", [first])  # the same key again
        assert "mercure_outbox" in str(raised.value)
        session.rollback()
    assert len(seen) == 1
    assert (seen[0] or "").startswith("INSERT INTO mercure_outbox")
    assert [row.key for row in outbox.pending("default")] == [first.key]


@pytest.mark.parametrize("outbox", ["postgresql"], indirect=True)
def test_connections_lost_while_staging_are_all_replaced(outbox: Outbox) -> None:
    """A server that drops its connections (their backends terminated, as a restart does)
    fails the staging as a lost connection, and, as for any statement, the pool's other
    connections, idle and as dead, are replaced too: no later checkout meets one."""
    engine = outbox.engine
    idle = [engine.connect() for _ in range(3)]
    for connection in idle:
        connection.execute(sa.text("SELECT 1"))
        connection.close()  # back to the pool, idle
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with Session(engine) as session:
        session.connection().execute(sa.text("SELECT 1"))
        with admin.connect() as terminator:
            terminator.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        with pytest.raises(sa.exc.DBAPIError) as raised:
            outbox.stage(session, "default", updates("a"))
        assert raised.value.connection_invalidated
        session.rollback()
    admin.dispose()
    checked_out = [engine.connect() for _ in range(len(idle))]
    try:
        for connection in checked_out:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
    finally:
        for connection in checked_out:
            connection.close()
    with Session(engine) as session:
        assert outbox.stage(session, "default", updates("b"))[0].behind is False
        session.commit()
    assert [row.update.id for row in outbox.pending("default")] == ["b"]


def test_delete_failed_rejected_and_remaining(outbox: Outbox) -> None:
    with Session(outbox.engine) as session:
        rows = outbox.stage(session, "default", updates("a", "b", "c"))
        session.commit()
    keys = [row.key for row in rows]
    outbox.failed(keys[1], "hub down")
    outbox.failed(keys[1], "hub still down")
    outbox.failed(keys[2], "bad topic", final=True)
    assert outbox.pending("default")[1].attempts == 2
    assert [row.update.id for row in outbox.pending("default")] == ["a", "b"]
    outbox.delete(keys[:1])
    assert outbox.remaining(keys) == {keys[1]}
    with outbox.engine.connect() as connection:
        status, error = connection.execute(
            sa.select(outbox.table.c.status, outbox.table.c.last_error).where(
                outbox.table.c.key == keys[2]
            )
        ).one()
    assert (status, error) == ("rejected", "bad topic")


def test_one_relay_per_hub_holds_the_lease_until_it_expires(outbox: Outbox) -> None:
    assert outbox.acquire("default", "first", ttl=30)
    assert not outbox.acquire("default", "second", ttl=30)
    assert outbox.acquire("default", "first", ttl=30)  # renewal
    assert outbox.acquire("backup", "second", ttl=30)  # another hub
    outbox.release("default", "first")
    assert outbox.acquire("default", "second", ttl=0.01)
    time.sleep(0.05)
    assert outbox.acquire("default", "first", ttl=30)  # the expired lease is taken over


def test_a_locked_outbox_fails_its_backlog_read_instead_of_waiting(outbox: Outbox) -> None:
    """What a metrics scrape reads: counted while the table is free; while a migration (here
    an explicit lock) holds it, the read is cancelled rather than held for as long as the
    lock (PostgreSQL; SQLite readers do not wait for a schema change this way)."""
    engine = outbox.engine
    with Session(engine) as session, session.begin():
        outbox.stage(session, "default", updates("a", "b"))
    assert [(hub, status, count) for hub, status, count, _ in backlog(engine)] == [
        ("default", "pending", 2)
    ]
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as holder:
        holder.execute(sa.text("LOCK TABLE mercure_outbox IN ACCESS EXCLUSIVE MODE"))
        reader = gevent.spawn(backlog, engine)
        reader.join(timeout=60)  # far past the read's own limit: it must have given up
        assert reader.ready(), "the backlog read waited for the lock"
        assert isinstance(reader.exception, sa.exc.OperationalError)
        holder.rollback()
    assert backlog(engine)[0][2] == 2
