"""What is left of an expression once the user is known: a condition on the item's fields.

:func:`residual` evaluates every part of an :class:`~app.access.expression.Expression`
that depends on the user alone, with the sandbox's semantics (an anonymous user's
``user.id`` is undefined: equal to nothing, containing nothing), and keeps the parts that
read the item as :class:`Atom` comparisons. The result is ``True`` (every item), ``False``
(none) or a :class:`Condition` over atoms, which :mod:`app.access.query` turns into SQL and
:mod:`app.access.audience` into Mercure topics. For every item, the residual holds exactly
when :meth:`Expression.allows` does; the property tests check it. Pure: no IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast

from jinja2 import nodes

from app.access.expression import Expression
from app.access.user import User

__all__ = ["AllOf", "AnyOf", "Atom", "Condition", "Negation", "Residual", "residual"]

RESIDUAL_CACHE_SIZE = 4096
"""(expression, user) pairs whose residual is kept; a request computes one or two."""

Operator = Literal["eq", "ne", "in", "notin", "true"]


class _Undefined:
    """The value of ``user.id`` and ``user.roles`` for an anonymous user."""

    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()


@dataclass(frozen=True)
class Atom:
    """``field <operator> value``: ``eq``/``ne`` a literal, ``in``/``notin`` a tuple of
    literals, ``true`` a boolean field that is true."""

    field: str
    operator: Operator
    value: Any = None


@dataclass(frozen=True)
class AnyOf:
    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    terms: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    term: Condition


Condition = Atom | AnyOf | AllOf | Negation
Residual = bool | Condition


@dataclass(frozen=True)
class _Field:
    """An operand that reads the item (``object.x`` or ``previous_object.x``)."""

    name: str


@lru_cache(maxsize=RESIDUAL_CACHE_SIZE)
def residual(expression: Expression, user: User | None) -> Residual:
    """The condition ``expression`` puts on the item when evaluated for ``user``
    (cached: expressions and users are immutable)."""
    return _Evaluator(user).condition(expression.node)


class _Evaluator:
    def __init__(self, user: User | None) -> None:
        self.user = user

    def condition(self, node: nodes.Node) -> Residual:
        if isinstance(node, nodes.And):
            return _all(self.condition(node.left), self.condition(node.right))
        if isinstance(node, nodes.Or):
            return _any(self.condition(node.left), self.condition(node.right))
        if isinstance(node, nodes.Not):
            return _not(self.condition(node.node))
        if isinstance(node, nodes.Compare):
            return self.compare(node)
        if isinstance(node, nodes.Call):
            assert isinstance(node.node, nodes.Name)
            if node.node.name == "is_authenticated":
                return self.user is not None
            role = node.args[0]
            assert isinstance(role, nodes.Const)
            return self.user is not None and role.value in self.user.roles
        value = self.operand(node)
        if isinstance(value, _Field):
            return Atom(value.name, "true")
        return value is not UNDEFINED and bool(value)

    def compare(self, node: nodes.Compare) -> Residual:
        operator = node.ops[0].op
        left, right = self.operand(node.expr), self.operand(node.ops[0].expr)
        if isinstance(left, _Field) or isinstance(right, _Field):
            column, value = (left, right) if isinstance(left, _Field) else (right, left)
            assert isinstance(column, _Field)
            if value is UNDEFINED:  # a field's value is never undefined
                return operator in ("ne", "notin")
            return Atom(column.name, cast(Operator, operator), value)
        return _compare(operator, left, right)

    def operand(self, node: nodes.Node) -> Any:
        if isinstance(node, nodes.Const):
            return node.value
        if isinstance(node, nodes.List | nodes.Tuple):
            return tuple(self.operand(item) for item in node.items)
        assert isinstance(node, nodes.Getattr)
        assert isinstance(node.node, nodes.Name)
        if node.node.name != "user":
            return _Field(node.attr)
        if self.user is None:
            return UNDEFINED
        return self.user.id if node.attr == "id" else self.user.roles


def _compare(operator: str, left: Any, right: Any) -> bool:
    """Compare two known values as the sandbox does (undefined equals only undefined)."""
    if operator in ("eq", "ne"):
        equal = left is right if left is UNDEFINED or right is UNDEFINED else bool(left == right)
        return equal if operator == "eq" else not equal
    found = right is not UNDEFINED and left in right  # right: a list or user.roles
    return found if operator == "in" else not found


def _all(left: Residual, right: Residual) -> Residual:
    if left is False or right is False:
        return False
    if left is True:
        return right
    if right is True:
        return left
    assert not isinstance(left, bool)
    assert not isinstance(right, bool)
    return AllOf((*_terms(left, AllOf), *_terms(right, AllOf)))


def _any(left: Residual, right: Residual) -> Residual:
    if left is True or right is True:
        return True
    if left is False:
        return right
    if right is False:
        return left
    return AnyOf((*_terms(left, AnyOf), *_terms(right, AnyOf)))


def _not(term: Residual) -> Residual:
    if isinstance(term, bool):
        return not term
    if isinstance(term, Negation):
        return term.term
    return Negation(term)


def _terms(term: Condition, kind: type[AllOf] | type[AnyOf]) -> tuple[Condition, ...]:
    return term.terms if isinstance(term, kind) else (term,)
