"""An item as the row a Core statement returned, standing in for a model instance.

The REST layer writes with Core statements (:mod:`app.api.writer`) and hands each written
row, as a :class:`RowItem`, to the publishing bridge, which reads it as it reads a model
instance: topic templates, audience rules and the update's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

__all__ = ["Relations", "RowItem", "row_of"]

Relations = Mapping[str, tuple[type[Any], str]]
"""Relation name -> the target model and the attribute holding the target's id."""


class RowItem:
    """An item as its row: its columns by attribute name, and its relations loaded from
    ``session`` on first access (as the model's ``lazy="select"`` relations are), so
    topic templates such as ``{book.id}`` expand as on a model instance.

    The columns are read from the row's mapping, never as the row's own attributes, which
    ``Row`` has of its own (``t``, ``tuple``, ``count``) and which a field may be named.
    The slots' names start with ``_``, which no field's may (:mod:`app.config.naming`)."""

    __slots__ = ("__dict__", "_relations", "_row", "_session")

    def __init__(self, row: sa.Row[Any], relations: Relations, session: Session) -> None:
        self.__dict__.update(row._mapping)
        self._row = row
        self._relations = relations
        self._session = session

    def __getattr__(self, name: str) -> Any:
        """A relation's target (``None`` when unset), loaded once: called for names not
        among the columns nor loaded yet."""
        relation = self._relations.get(name)
        if relation is None:
            raise AttributeError(name)
        model, column = relation
        target_id = self.__dict__[column]
        target = None if target_id is None else self._session.get(model, target_id)
        self.__dict__[name] = target
        return target


def row_of(item: RowItem) -> sa.Row[Any]:
    """The row ``item`` was made of."""
    return item._row
