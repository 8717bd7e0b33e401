"""Who receives an item's private updates: audience topics derived from its read rule.

A private update reaches a subscriber whose token has a ``mercure.subscribe`` selector
matching one of the update's topics. So every private update of a resource with a read
rule carries, besides its own topics, the *audience topics* of the item:

- ``<origin>/auth/mercure/audiences/<route>``: everyone the rule lets read every item;
- ``<origin>/auth/mercure/audiences/<route>/<field>/<value>`` for each field the rule
  compares with ``==`` (``object.author == user.id``): everyone the rule lets read the
  items whose field has that value. ``<value>`` is the JSON of the value, percent-encoded.

A user's subscriber token lists the audience topics that the rule's residual for that user
names (:func:`grants`): the first when it is ``True``, one per ``field == value`` when it is
a disjunction of such comparisons, none when it is ``False``. A subscriber therefore
receives an item's update exactly when the rule lets its user read the item. For this to
hold, a read rule of a resource that publishes must have that shape
(:func:`check_audience`): an ``or`` of terms, each depending on the user alone or ``and``-ing
such conditions with at most one ``object.<field> == <value>``.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

from jinja2 import nodes

from app.access.expression import Expression, ExpressionError
from app.access.residual import AnyOf, Atom, residual
from app.access.user import User

__all__ = ["AUDIENCE_PATH", "audience_fields", "check_audience", "grants", "item_audiences"]

AUDIENCE_PATH = "/auth/mercure/audiences"


def check_audience(expression: Expression) -> None:
    """Raise :class:`ExpressionError` unless ``expression`` can be expressed as audience
    topics (see the module docstring)."""
    audience_fields(expression)


@lru_cache(maxsize=256)
def audience_fields(expression: Expression) -> tuple[str, ...]:
    """The fields ``expression`` compares with ``==``, in order; checks its shape."""
    found: list[str] = []
    for term in _split(expression.node, nodes.Or):
        compared = [part for part in _split(term, nodes.And) if _reads_object(part)]
        if len(compared) > 1 or (compared and _equality(compared[0]) is None):
            raise ExpressionError(
                "the read rule of a resource whose updates are published must be an 'or' of "
                "terms that depend on the user alone or add one 'object.<field> == <value>' "
                f"with 'and'; rewrite {expression.source!r} in that form"
            )
        if compared:
            name = _equality(compared[0])
            if name is not None and name not in found:
                found.append(name)
    return tuple(found)


def grants(expression: Expression, user: User | None, base: str) -> list[str]:
    """The audience topics under ``base`` (``<origin><AUDIENCE_PATH><route>``) whose
    updates ``user`` may receive."""
    condition = residual(expression, user)
    if condition is True:
        return [base]
    if condition is False:
        return []
    terms = condition.terms if isinstance(condition, AnyOf) else (condition,)
    topics: list[str] = []
    for term in terms:
        assert isinstance(term, Atom), term
        assert term.operator in ("eq", "true"), term
        value = True if term.operator == "true" else term.value
        topics.append(audience_topic(base, term.field, value))
    return topics


def item_audiences(fields: tuple[str, ...], obj: object, base: str) -> list[str]:
    """The audience topics of ``obj``, for the ``fields`` of :func:`audience_fields`."""
    return [base, *(audience_topic(base, name, getattr(obj, name)) for name in fields)]


def audience_topic(base: str, name: str, value: object) -> str:
    """The topic of the items whose field ``name`` equals ``value``; values that compare
    equal get the same topic (``1``, ``1.0`` and ``Decimal('1.00')`` all read ``1``)."""
    return f"{base}/{name}/{quote(json.dumps(_canonical(value), default=str), safe='')}"


def _canonical(value: object) -> object:
    """One JSON form per value as ``==`` sees it: a whole number as an integer; another
    decimal as its text, which no literal of the rule encodes to."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else str(value)
    return value


def _split(node: nodes.Node, kind: type[nodes.And] | type[nodes.Or]) -> list[nodes.Node]:
    if isinstance(node, kind):
        return [*_split(node.left, kind), *_split(node.right, kind)]
    return [node]


def _reads_object(node: nodes.Node) -> bool:
    return any(
        isinstance(name, nodes.Name) and name.name in ("object", "previous_object")
        for name in node.find_all(nodes.Name)
    )


def _equality(node: nodes.Node) -> str | None:
    """The field of ``object.<field> == <value>`` (or a bare boolean field), else None."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if not isinstance(node, nodes.Compare) or node.ops[0].op != "eq":
        return None
    for side in (node.expr, node.ops[0].expr):
        if isinstance(side, nodes.Getattr) and getattr(side.node, "name", None) == "object":
            return side.attr
    return None
