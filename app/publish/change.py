"""Pending changes of one transaction, merged per item. Pure, no IO.

Within a transaction an item may be flushed several times; subscribers must see only what
was committed, once per item: a create then updates is one create (latest data), an
update then a delete is one delete, and a create then a delete is nothing at all (no
subscriber ever saw the item). :func:`merge` is that table; :class:`Frame` applies it to
the changes of one transaction or savepoint, in first-change order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from app.config.spec import ResourceSpec
from app.hub.update import Update

Kind = Literal["create", "update", "delete"]
Owner = TypeVar("Owner")
"""What publishes a change (the session tracker); this module only carries it."""

_MERGED: dict[tuple[Kind, Kind], Kind | None] = {
    ("create", "create"): "create",
    ("create", "update"): "create",
    ("create", "delete"): None,
    ("update", "create"): "update",
    ("update", "update"): "update",
    ("update", "delete"): "delete",
    ("delete", "create"): "delete",
    ("delete", "update"): "delete",
    ("delete", "delete"): "delete",
}


def merge(earlier: Kind, later: Kind) -> Kind | None:
    """The net effect of ``earlier`` then ``later`` on one item (``None``: nothing)."""
    return _MERGED[(earlier, later)]


@dataclass(eq=False)
class Change(Generic[Owner]):
    """One item's net change. ``update`` is ``None`` until built (creates and updates are
    built after each flush; deletes before the row goes). ``owner`` is the tracker that
    publishes it."""

    kind: Kind
    obj: object
    resource: ResourceSpec
    owner: Owner
    update: Update | None = None


class Frame(Generic[Owner]):
    """The changes of one transaction or savepoint, keyed by item identity."""

    def __init__(self) -> None:
        self._changes: dict[int, Change[Owner]] = {}

    def __len__(self) -> int:
        return len(self._changes)

    def changes(self) -> list[Change[Owner]]:
        """Changes in the order their items first changed."""
        return list(self._changes.values())

    def record(self, incoming: Change[Owner]) -> Change[Owner] | None:
        """Fold ``incoming`` into this frame; return the stored change, or ``None`` when
        the item's changes cancel out."""
        key = id(incoming.obj)
        existing = self._changes.get(key)
        if existing is None:
            self._changes[key] = incoming
            return incoming
        kind = merge(existing.kind, incoming.kind)
        if kind is None:
            del self._changes[key]
            return None
        if kind != "delete" or incoming.kind == "delete":
            existing.update = incoming.update
        existing.kind = kind
        return existing

    def absorb(self, child: Frame[Owner]) -> None:
        """Fold a released savepoint's changes into this enclosing frame."""
        for change in child.changes():
            self.record(change)
