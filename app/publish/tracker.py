"""SQLAlchemy session events -> committed changes of Mercure resources.

One set of listeners is installed on :class:`sqlalchemy.orm.Session` (every session in the
process: Flask-SQLAlchemy's scoped session, a ``Session(db.engine)`` in a script, the CLI);
each object is routed by its class to the :class:`Tracker` of the app that owns the model,
so several apps in one process never see each other's changes.

Ordering and transactions:

- ``before_flush``: deleted items are turned into updates *now*, while the row and its
  relations can still be read (delete topics expand before the row is gone);
- ``after_flush``: new and modified items are noted; ``after_flush_postexec`` builds their
  updates, when the INSERT has assigned the id (create topics expand after it exists). A
  later flush of the same item rebuilds it, so the last committed state is published;
- :func:`written` records a change written with a Core statement (the REST layer's
  writes, :mod:`app.api.writer`), its update built at once from the row as written;
- changes go to the innermost transaction or savepoint; a released savepoint folds into its
  parent; a savepoint or transaction that ends without committing drops its changes;
- ``before_commit`` of the outermost transaction flushes, then hands the net changes, in
  first-change order, to the tracker's ``stage`` callable, which writes them to the outbox
  in the same transaction: the change and its update commit together or not at all;
- ``after_commit`` of the outermost transaction hands what was staged to ``committed``,
  which relays it. Nothing is relayed before the commit and nothing after a rollback.

Database-side effects of a delete are published too: before a flush deletes an item, the
items whose relation to it says ``on_delete: cascade`` are deleted in the session (and
recursively theirs), and those that say ``set_null`` get the relation set to null, so their
deletes and updates are published like any other (the database would do the same a moment
later). Only the relations that lead to a tracked resource are followed (``dependents``).
Bulk statements (``session.execute(update(...))``) bypass the unit of work and are not
published. A failure to build an update is logged with the
resource and never breaks the flush or the commit.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, SessionTransaction

from app.config.spec import OnDelete, ResourceSpec
from app.hub.update import Update
from app.publish.change import Change, Frame, Kind
from app.publish.factory import UpdateFactory

logger = logging.getLogger("app.publish")

Stage = Callable[[Session, Sequence[tuple[ResourceSpec, Update]]], list[Any]]
Committed = Callable[[list[Any]], None]

Dependent = tuple[type, str, OnDelete]
"""A child model, the attribute of its foreign key to the parent, and its ``on_delete``."""

_INFO_KEY = "app.publish.pending"
_trackers: weakref.WeakValueDictionary[type, Tracker] = weakref.WeakValueDictionary()
_dependents: weakref.WeakKeyDictionary[type, tuple[Dependent, ...]] = weakref.WeakKeyDictionary()
_installed = False


class Tracker:
    """Collects changes of ``models`` (model class -> resource) and delivers them after
    commit. Keep a strong reference to it for as long as the app lives: the session
    listeners only hold it weakly."""

    def __init__(
        self,
        models: Mapping[type, ResourceSpec],
        factory: UpdateFactory,
        stage: Stage,
        committed: Committed,
        dependents: Mapping[type, Sequence[Dependent]] | None = None,
    ) -> None:
        self._factory = factory
        self._stage = stage
        self.committed = committed
        self._models = dict(models)
        _install()
        for model in self._models:
            _trackers[model] = self
        for parent, children in (dependents or {}).items():
            _dependents[parent] = tuple(children)

    def resource_of(self, obj: object) -> ResourceSpec | None:
        return self._models.get(type(obj))

    def resource_for(self, model: type) -> ResourceSpec | None:
        return self._models.get(model)

    def build(self, change: Change[Tracker]) -> None:
        """Build ``change.update`` from the item's current state; log and leave it unset
        (the change is then skipped) when that fails."""
        try:
            if change.kind == "delete":
                change.update = self._factory.deleted(change.resource, change.obj)
            else:
                change.update = self._factory.saved(change.resource, change.obj)
        except Exception:
            change.update = None
            logger.exception(
                "cannot build the Mercure update for a %s of %s; it will not be published",
                change.kind,
                change.resource.name,
            )

    def stage(self, session: Session, changes: Iterable[Change[Tracker]]) -> list[Any]:
        """Write the updates of ``changes`` to the outbox in the committing transaction;
        a failure fails the commit (the change is not committed without its update)."""
        updates = [(c.resource, c.update) for c in changes if c.update is not None]
        return self._stage(session, updates) if updates else []


class _Pending:
    """Per-session state: the outermost transaction's frame, one frame per open savepoint,
    and the changes the current flush must build once ids exist."""

    def __init__(self) -> None:
        self.root: Frame[Tracker] = Frame()
        self.savepoints: dict[SessionTransaction, Frame[Tracker]] = {}
        self.unbuilt: list[Change[Tracker]] = []
        self.deleting: set[int] = set()
        self.staged: list[tuple[Tracker, list[Any]]] = []

    def frame_for(self, savepoint: SessionTransaction | None) -> Frame[Tracker]:
        if savepoint is None:
            return self.root
        frame = self.savepoints.get(savepoint)
        if frame is None:
            frame = self.savepoints[savepoint] = Frame()
        return frame


def _install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    _installed = True


def _tracker_of(obj: object) -> Tracker | None:
    return _trackers.get(type(obj))


def _pending(session: Session, create: bool = True) -> _Pending | None:
    pending = session.info.get(_INFO_KEY)
    if pending is None and create:
        pending = session.info[_INFO_KEY] = _Pending()
    return pending


def _current_frame(session: Session, pending: _Pending) -> Frame[Tracker]:
    return pending.frame_for(session.get_nested_transaction())


def _record(session: Session, pending: _Pending, kind: Kind, obj: object) -> None:
    tracker = _tracker_of(obj)
    if tracker is None:
        return
    resource = tracker.resource_of(obj)
    assert resource is not None
    change = Change(kind, obj, resource, tracker)
    if kind == "delete":
        tracker.build(change)
    stored = _current_frame(session, pending).record(change)
    if stored is not None and kind != "delete":
        pending.unbuilt.append(stored)


def written(session: Session, kind: Kind, model: type, item: object) -> None:
    """Record the change of an item of ``model`` that the caller wrote with a Core
    statement in ``session``'s transaction, which the unit of work did not see. ``item``
    reads as the item as written (its attributes; its relations load on access), and its
    update is built now; it is then merged, staged and relayed with the transaction's
    other changes, as a flushed one. Items of untracked models are ignored."""
    tracker = _trackers.get(model)
    if tracker is None:
        return
    pending = _pending(session)
    assert pending is not None
    resource = tracker.resource_for(model)
    assert resource is not None
    change = Change(kind, item, resource, tracker)
    tracker.build(change)
    _current_frame(session, pending).record(change)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    _follow_database_cascades(session)
    pending = _pending(session)
    assert pending is not None
    pending.unbuilt.clear()
    pending.deleting.clear()
    for obj in list(session.deleted):
        if _tracker_of(obj) is not None:
            pending.deleting.add(id(obj))
            _record(session, pending, "delete", obj)


def _follow_database_cascades(session: Session) -> None:
    """Do in the session what ``on_delete`` would do in the database to the dependents of
    the items being deleted, so that their changes are published."""
    work = [obj for obj in session.deleted if type(obj) in _dependents]
    seen: set[int] = set()
    with session.no_autoflush:
        while work:
            parent = work.pop()
            if id(parent) in seen:
                continue
            seen.add(id(parent))
            for child_model, foreign_key, on_delete in _dependents.get(type(parent), ()):
                column = getattr(child_model, foreign_key)
                # Locked (PostgreSQL): a child moved to another parent meanwhile is not
                # taken along, and one being moved waits for this delete.
                query: Any = select(child_model).where(column == parent.id).with_for_update()
                children: list[Any] = list(session.scalars(query))
                for child in children:
                    if on_delete == "set_null":
                        setattr(child, foreign_key, None)
                    elif child not in session.deleted:
                        session.delete(child)
                        work.append(child)


def _after_flush(session: Session, _context: object) -> None:
    pending = _pending(session)
    assert pending is not None
    for obj in list(session.deleted):
        if _tracker_of(obj) is not None and id(obj) not in pending.deleting:
            # Deleted by the flush itself (delete-orphan): the row is gone but the
            # loaded attributes still describe it.
            _record(session, pending, "delete", obj)
    pending.deleting.clear()
    for obj in list(session.new):
        _record(session, pending, "create", obj)
    for obj in list(session.dirty):
        if _tracker_of(obj) is not None and _modified(session, obj):
            _record(session, pending, "update", obj)


def _modified(session: Session, obj: object) -> bool:
    if inspect(obj).deleted:
        return False
    return session.is_modified(obj, include_collections=False)


def _after_flush_postexec(session: Session, _context: object) -> None:
    pending = _pending(session, create=False)
    if pending is None:
        return
    for change in pending.unbuilt:
        change.owner.build(change)
    pending.unbuilt.clear()


def _before_commit(session: Session) -> None:
    """Stage the net changes of the outermost transaction (savepoints commit first)."""
    if session.get_nested_transaction() is not None:
        return
    session.flush()  # records and builds the changes not flushed yet
    pending = _pending(session, create=False)
    if pending is None:
        return
    frame, pending.root = pending.root, Frame()
    by_tracker: dict[int, tuple[Tracker, list[Change[Tracker]]]] = {}
    for change in frame.changes():
        tracker = change.owner
        by_tracker.setdefault(id(tracker), (tracker, []))[1].append(change)
    pending.staged = [
        (tracker, tracker.stage(session, changes)) for tracker, changes in by_tracker.values()
    ]


def _after_commit(session: Session) -> None:
    pending = _pending(session, create=False)
    if pending is None:
        return
    savepoint = session.get_nested_transaction()
    if savepoint is not None:
        child = pending.savepoints.pop(savepoint, None)
        if child is not None:
            pending.frame_for(_enclosing_savepoint(savepoint)).absorb(child)
        return
    staged, pending.staged = pending.staged, []
    for tracker, rows in staged:
        if not rows:
            continue
        try:
            tracker.committed(rows)
        except Exception:  # the rows stay in the outbox and are relayed later
            logger.exception("relaying %d committed update(s) failed", len(rows))


def _enclosing_savepoint(savepoint: SessionTransaction) -> SessionTransaction | None:
    """The nearest enclosing savepoint, ``None`` for the outermost transaction."""
    parent = savepoint.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    pending = _pending(session, create=False)
    if pending is None:
        return
    if transaction.parent is None:
        dropped, pending.root = pending.root, Frame()
        pending.savepoints.clear()
        pending.staged = []
    else:
        dropped = pending.savepoints.pop(transaction, Frame())
    if len(dropped):
        logger.debug("dropped %d uncommitted change(s) after a rollback", len(dropped))
