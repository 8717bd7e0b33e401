"""One resource's writes as single Core statements, the ORM instance kept in step.

The REST layer knows each write in full before it starts: the columns to insert, or the
columns a ``PUT``/``PATCH`` changed. :class:`RowWriter` sends each as one statement on the
session's connection (in the session's transaction), ``RETURNING`` the row as stored, so
the unit of work (its flush, its bookkeeping and its events) is not needed; then the model
instance is made a clean persistent instance of that row in the session, as a flush would
leave it, so what reads it afterwards (the security rules, the update's topics and data,
lazy-loaded relations) sees the item as written. Each written row is reported to the
publishing bridge (:func:`app.publish.tracker.written`), which stages its update in the
same transaction, exactly as for a flushed change.

Contracts: the statements are those a flush would send (same columns, same Python and
server defaults, ``NULL`` for a given ``None``); a change that leaves every column as it
was sends nothing and publishes nothing, as a flush would; an ``UPDATE`` that finds no row
(deleted meanwhile) raises :class:`~app.errors.NotFound`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, make_transient, make_transient_to_detached

from app.config.spec import ResourceSpec
from app.errors import NotFound
from app.models import iri_for_id
from app.publish.tracker import written

__all__ = ["RowWriter"]


class RowWriter:
    """Writes rows of ``model``; ``columns`` are what ``RETURNING`` gives back (the
    read's columns, labelled by attribute, so the row answers as a read's does)."""

    def __init__(
        self, resource: ResourceSpec, model: type[Any], columns: tuple[sa.Label[Any], ...]
    ) -> None:
        self.resource = resource
        mapper: Any = sa.inspect(model)
        table: sa.Table = mapper.local_table
        self._keys = {attribute.key: attribute.columns[0].key for attribute in mapper.column_attrs}
        """Attribute -> the table's key of its column."""
        primary_key = table.c[mapper.primary_key[0].key]
        self._insert = table.insert().returning(*columns)
        self._update = (
            table.update().where(primary_key == sa.bindparam("item_id")).returning(*columns)
        )

    def insert(self, session: Session, obj: object, values: Mapping[str, Any]) -> sa.Row[Any]:
        """Insert the new item ``obj`` (transient, built from ``values``) and make it
        persistent in ``session``; return its row as stored."""
        params = {self._keys[name]: value for name, value in values.items()}
        row = session.connection().execute(self._insert, params).one()
        self._persist(session, obj, row)
        written(session, "create", obj)
        return row

    def update(self, session: Session, obj: object, names: Iterable[str]) -> sa.Row[Any] | None:
        """Write the attributes ``names`` of ``obj`` (persistent, changed in place) that
        differ from the stored row; return the row as stored, or ``None`` when none
        differs (nothing is sent)."""
        state: Any = sa.inspect(obj)
        attributes = state.attrs
        changed = [name for name in names if attributes[name].history.has_changes()]
        if not changed:
            return None
        params: dict[str, Any] = {self._keys[name]: getattr(obj, name) for name in changed}
        params["item_id"] = state.identity[0]
        row = session.connection().execute(self._update, params).one_or_none()
        if row is None:
            iri = iri_for_id(self.resource, params["item_id"])
            raise NotFound(f"No {self.resource.name} at {iri}: it was deleted meanwhile.")
        session.expunge(obj)
        make_transient(obj)
        self._persist(session, obj, row)
        written(session, "update", obj)
        return row

    @staticmethod
    def _persist(session: Session, obj: object, row: sa.Row[Any]) -> None:
        """Make the transient ``obj`` the clean persistent instance of ``row``."""
        for name, value in row._mapping.items():
            setattr(obj, name, value)
        make_transient_to_detached(obj)
        session.add(obj)
