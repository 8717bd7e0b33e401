"""Relays of one hub in two processes (two :class:`Relay` over one outbox, delivering to one
hub, as two workers over one database and one Redis): rows written behind another
process's pending row reach the hub after it at once, not once the backlog path takes them
over, and no update twice."""

from __future__ import annotations

from collections.abc import Iterator

import gevent
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.hub import Hub
from app.hub.transport.memory import MemoryTransport
from app.publish.outbox import Outbox, Queued
from app.publish.relay import Relay
from app.publish.sink import HubDeliverer
from tests.hub.conftest import TEST_SETTINGS
from tests.publish.conftest import updates
from tests.services import wait_until

HUB = "default"


@pytest.fixture
def hub() -> Iterator[Hub]:
    hub = Hub(TEST_SETTINGS, MemoryTransport(history_size=100))
    yield hub
    hub.close()


@pytest.fixture
def relays(outbox: Outbox, hub: Hub) -> Iterator[tuple[Relay, Relay]]:
    """Two started relays of one hub whose backlog a third process holds: they relay
    only at once and by following."""
    assert outbox.acquire(HUB, "a third process", ttl=60)
    first, second = (Relay(HUB, outbox, HubDeliverer(hub), immediate=True) for _ in range(2))
    first.start()
    second.start()
    yield first, second
    first.close()
    second.close()


def commit(outbox: Outbox, relay: Relay, *ids: str) -> list[Queued]:
    """Stage ``ids`` in one transaction as ``relay``'s process does, and commit."""
    with Session(outbox.engine) as session, session.begin():
        return outbox.stage(session, HUB, updates(*ids), settled=relay.settled())


def relayed(hub: Hub) -> list[str]:
    """The ids of the updates the hub took, in order."""
    transport = hub.transport
    assert isinstance(transport, MemoryTransport)
    return [update.id for update, _frame in transport.kept()]


def test_rows_behind_another_process_row_are_relayed_after_it_at_once(
    outbox: Outbox, relays: tuple[Relay, Relay], hub: Hub
) -> None:
    first, second = relays
    a = commit(outbox, first, "a")  # committed, not relayed yet by its writer
    b = commit(outbox, second, "b", "c")
    assert [row.behind for row in b] == [True, True]
    second.committed(b)
    # Not by the backlog path: a third process holds the lease.
    wait_until("the queued rows relayed after the other's", lambda: relayed(hub) == ["a", "b", "c"])
    first.committed(a)  # its writer relays it too: the hub keeps it once
    wait_until("the outbox emptied", lambda: outbox.pending(HUB) == [])
    assert relayed(hub) == ["a", "b", "c"]
    d = commit(outbox, second, "d")  # nothing queued any more: at once
    assert d[0].behind is False
    second.committed(d)
    assert relayed(hub) == ["a", "b", "c", "d"]


def test_rows_behind_a_row_that_failed_wait_for_the_backlog(
    outbox: Outbox, relays: tuple[Relay, Relay], hub: Hub
) -> None:
    first, second = relays
    a = commit(outbox, first, "a")
    outbox.failed(a[0].key, "hub down")  # its writer could not relay it
    b = commit(outbox, second, "b")
    second.committed(b)
    gevent.sleep(0.2)
    assert relayed(hub) == []  # the row that failed is retried by the backlog, backing off
    outbox.release(HUB, "a third process")
    wait_until("the backlog relayed both", lambda: relayed(hub) == ["a", "b"])
    wait_until("the outbox emptied", lambda: outbox.pending(HUB) == [])


def test_a_database_failure_is_retried_within_a_poll_whatever_the_hub_backoff(
    outbox: Outbox, hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    """The relay holding the backlog cannot read the outbox (here: its table is away, as
    while the database is down); the hub's backoff is long, but a database failure is
    retried every ``poll`` seconds, so a row left pending meanwhile is relayed soon after
    the database is back."""
    renamed = "mercure_outbox_away"
    with outbox.engine.begin() as connection:
        connection.execute(sa.text(f"ALTER TABLE mercure_outbox RENAME TO {renamed}"))
    relay = Relay(HUB, outbox, HubDeliverer(hub), immediate=True, retry_min_delay=120, poll=0.05)
    relay.start()
    try:
        wait_until(
            "the relay failed to read the outbox",
            lambda: any("the relay of hub" in r.getMessage() for r in caplog.records),
        )
        with outbox.engine.begin() as connection:
            connection.execute(sa.text(f"ALTER TABLE {renamed} RENAME TO mercure_outbox"))
        commit(outbox, relay, "a")  # left pending: its writer stopped before relaying it
        wait_until("the backlog relayed", lambda: relayed(hub) == ["a"], timeout=10)
    finally:
        relay.close()
