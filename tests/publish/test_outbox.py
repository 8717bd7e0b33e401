"""The durable outbox file: order, survival across reopen, rejection, the sender lease."""

from __future__ import annotations

from pathlib import Path

from app.hub.update import Update
from app.publish.outbox import Outbox


def updates(*names: str) -> list[Update]:
    return [
        Update(topics=(f"/t/{n}", "/alt"), data=n, private=n == "b", type="e", retry=3)
        for n in names
    ]


def test_updates_survive_reopening_in_order_with_their_ids(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "outbox.sqlite3"
    queued = updates("a", "b", "c")
    first = Outbox(path)
    first.push("default", queued)
    first.push("other", updates("x"))
    first.close()

    second = Outbox(path)
    head = second.head("default")
    second.close()
    assert [q.update for q in head] == queued
    assert [q.attempts for q in head] == [0, 0, 0]


def test_delivered_failed_and_rejected(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.push("default", updates("a", "b", "c"))
    a, b, c = outbox.head("default")
    outbox.delivered(a.seq)
    outbox.failed(b.seq, "HTTP 503")
    outbox.rejected(c.seq, "HTTP 400")

    [remaining] = outbox.head("default")
    assert (remaining.update.data, remaining.attempts) == ("b", 1)
    assert outbox.pending("default") == 1
    outbox.close()


def test_one_sender_per_hub_holds_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    one, two = Outbox(path), Outbox(path)
    assert one.acquire("default", "one", ttl=30)
    assert not two.acquire("default", "two", ttl=30)
    assert two.acquire("other", "two", ttl=30)
    assert one.acquire("default", "one", ttl=30)
    one.release("default", "one")
    assert two.acquire("default", "two", ttl=30)
    assert two.acquire("expired", "two", ttl=-1)
    assert one.acquire("expired", "one", ttl=30)
    one.close()
    two.close()
