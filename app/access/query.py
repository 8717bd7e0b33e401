"""A residual condition as an SQL ``WHERE`` clause over a resource's table.

Comparisons keep Python's semantics for null: ``==`` is ``IS NOT DISTINCT FROM`` and
``!=`` ``IS DISTINCT FROM``, so a null field is equal to ``none`` only and differs from
every other value, in SQL as in :meth:`Expression.allows`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from app.access.residual import AllOf, AnyOf, Atom, Negation, Residual

__all__ = ["where"]


def where(condition: Residual, model: type[Any]) -> ColumnElement[bool]:
    """The clause selecting the rows of ``model`` for which ``condition`` holds."""
    if condition is True:
        return sa.true()
    if condition is False:
        return sa.false()
    if isinstance(condition, AllOf):
        return sa.and_(*(where(term, model) for term in condition.terms))
    if isinstance(condition, AnyOf):
        return sa.or_(*(where(term, model) for term in condition.terms))
    if isinstance(condition, Negation):
        return sa.not_(where(condition.term, model))
    return _atom(condition, getattr(model, condition.field))


def _atom(atom: Atom, column: Any) -> ColumnElement[bool]:
    if atom.operator == "true":
        return column.is_(True)  # type: ignore[no-any-return]
    if atom.operator == "eq":
        return column.is_not_distinct_from(atom.value)  # type: ignore[no-any-return]
    if atom.operator == "ne":
        return column.is_distinct_from(atom.value)  # type: ignore[no-any-return]
    values = [value for value in atom.value if value is not None]
    found = column.in_(values) if values else sa.false()
    if None in atom.value:
        found = sa.or_(found, column.is_(None))
    else:
        found = sa.and_(found, column.is_not(None))
    return found if atom.operator == "in" else sa.not_(found)
