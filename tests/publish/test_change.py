"""Net effect of several changes of one item in one transaction."""

from __future__ import annotations

import pytest

from app.config.spec import ResourceSpec
from app.hub.update import Update
from app.publish.change import Change, Frame, Kind, merge

RESOURCE = ResourceSpec(name="Book", route="/books", table="book")


@pytest.mark.parametrize(
    ("earlier", "later", "net"),
    [
        ("create", "update", "create"),
        ("create", "delete", None),
        ("update", "update", "update"),
        ("update", "delete", "delete"),
        ("delete", "delete", "delete"),
    ],
)
def test_merge(earlier: Kind, later: Kind, net: Kind | None) -> None:
    assert merge(earlier, later) == net


def change(kind: Kind, obj: object, data: str | None = None) -> Change:
    update = None if data is None else Update(topics=("t",), data=data)
    return Change(kind, obj, RESOURCE, owner=None, update=update)


def test_frame_keeps_first_change_order_and_latest_update() -> None:
    first, second = object(), object()
    frame = Frame()
    frame.record(change("create", first, "v1"))
    frame.record(change("update", second, "x"))
    frame.record(change("update", first, "v2"))

    kinds = [(c.obj, c.kind, c.update.data if c.update else None) for c in frame.changes()]
    assert kinds == [(first, "create", "v2"), (second, "update", "x")]


def test_frame_drops_an_item_created_and_deleted() -> None:
    item = object()
    frame = Frame()
    frame.record(change("create", item, "v1"))
    assert frame.record(change("delete", item, "gone")) is None
    assert len(frame) == 0


def test_absorbing_a_savepoint_applies_its_changes_after_the_parents() -> None:
    created, updated = object(), object()
    parent, child = Frame(), Frame()
    parent.record(change("create", created, "v1"))
    parent.record(change("update", updated, "u1"))
    child.record(change("delete", created, "gone"))
    child.record(change("delete", updated, "deleted"))
    parent.absorb(child)

    [remaining] = parent.changes()
    assert (remaining.obj, remaining.kind) == (updated, "delete")
    assert remaining.update is not None
    assert remaining.update.data == "deleted"
