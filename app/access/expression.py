"""Security expressions of ``resources.yaml``: parsed by Jinja2, checked against a whitelist.

An expression decides whether a user may perform an operation, in the spirit of API
Platform's ``security`` attribute::

    is_granted('admin') or object.author == user.id

The language is a closed subset of Jinja2's expression syntax:

- ``user.id`` (the token's ``sub``) and ``user.roles``; ``user`` is null when anonymous, so
  both are then undefined (never equal to anything but each other; nothing is ``in`` them);
- ``object.<field>`` (``id`` or a declared field) and, for ``put``/``patch``,
  ``previous_object.<field>``; a bare ``object.<field>`` only for boolean fields;
- ``is_granted('<role>')`` and ``is_authenticated()``;
- string, number, boolean and ``none`` literals and lists of them;
- ``==``, ``!=``, ``in`` and ``not in`` between two operands, at most one of which reads the
  item, a list (or ``user.roles``) only on the right of ``in``; ``and``, ``or``, ``not`` and
  parentheses. A field compares with ``none`` and literals of its type: text fields with
  strings and ``user.id``, numbers with numbers (decimals with whole numbers only), booleans
  with ``true``/``false``; dates, datetimes, UUIDs and JSON with ``none`` only, since the
  item holds them as values that equal no literal.

Anything else (other names, attributes, calls, filters, subscripts, arithmetic) is refused
when the file loads, so an expression cannot reach past what it is given. A checked
:class:`Expression` is evaluated on an item by Jinja2's immutable sandbox (:meth:`allows`),
and read structurally by :mod:`app.access.residual` to filter collections and to derive who
receives live updates; both read the same whitelisted tree. Pure: no IO.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from app.access.user import User

__all__ = ["COMPARISONS", "Expression", "ExpressionError", "parse_expression"]

logger = logging.getLogger(__name__)

MAX_LENGTH = 4000
"""Longest expression accepted, in characters."""
MAX_DEPTH = 50
"""Deepest nesting of conditions accepted (Python's compiler refuses about 100)."""
INTEGER_RANGE = (-(2**63), 2**63 - 1)
"""Integer literals must fit a 64-bit database integer."""
COMPARISONS = frozenset({"eq", "ne", "in", "notin"})
"""Jinja2's names of the comparison operators the language accepts."""
_OPERATOR = {"eq": "==", "ne": "!=", "in": "in", "notin": "not in"}
_USER_ATTRIBUTES = ("id", "roles")
_FUNCTIONS = {"is_granted": 1, "is_authenticated": 0}
_TEXT_TYPES = frozenset({"string", "text", "enum"})
# Which literals each field type compares with, so that Python (``allows``), SQL and the
# audience topics agree: an item holds dates, datetimes and UUIDs as objects that equal no
# text (those fields compare with ``none`` only), and a decimal equals a float only when
# the float is exact (decimal fields compare with whole numbers).
_LITERAL_TYPES: dict[type, frozenset[str]] = {
    str: _TEXT_TYPES,
    int: frozenset({"integer", "float", "decimal"}),
    float: frozenset({"float"}),
    bool: frozenset({"boolean"}),
}

_environment = ImmutableSandboxedEnvironment()


class ExpressionError(ValueError):
    """An expression is malformed or uses something outside the language; the message
    says what and how to fix it."""


@dataclass(frozen=True)
class Expression:
    """A checked security expression.

    ``node`` is Jinja2's tree of ``source``, ``compiled`` its sandboxed evaluator;
    ``object_fields`` the item fields it reads (empty: it depends on the user alone).
    Immutable and safe to share between greenlets.
    """

    source: str
    node: nodes.Expr = field(compare=False, repr=False)
    compiled: Callable[..., Any] = field(compare=False, repr=False)
    object_fields: frozenset[str] = frozenset()

    @property
    def reads_object(self) -> bool:
        return bool(self.object_fields)

    def allows(self, user: User | None, obj: object = None, previous: object = None) -> bool:
        """Evaluate in the sandbox for ``user`` (``None``: anonymous) and the item ``obj``
        (``previous``: its state before a ``put``/``patch``). An evaluation error (comparing
        incompatible values, say) is logged and denies."""
        try:
            result = self.compiled(
                user=user,
                object=obj,
                previous_object=previous,
                is_granted=lambda role: user is not None and role in user.roles,
                is_authenticated=lambda: user is not None,
            )
        except Exception:
            logger.exception("security expression %r failed; access denied", self.source)
            return False
        return bool(result)


def parse_expression(
    source: str, fields: Mapping[str, str], *, has_object: bool, has_previous: bool
) -> Expression:
    """Parse and check ``source``; raise :class:`ExpressionError`.

    ``fields`` maps the item's readable names (``id`` included) to their types;
    ``has_object``/``has_previous`` say whether the operation has an item (not for
    ``get_collection``) and a previous state (``put`` and ``patch``).
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source)} characters long, more than {MAX_LENGTH}; "
            "split the rule or simplify it"
        )
    checker = _Checker(fields, has_object=has_object, has_previous=has_previous)
    try:
        parser = Parser(_environment, source, state="variable")
        node = parser.parse_expression()
        if not parser.stream.eos:
            token = parser.stream.current
            raise TemplateSyntaxError(f"unexpected {token.value!r}", token.lineno)
        checker.condition(node)  # the whitelist first: only checked trees are compiled
        compiled = _environment.compile_expression(source)
    except TemplateSyntaxError as error:
        raise ExpressionError(f"syntax error in {source!r}: {error.message}") from None
    except (RecursionError, SyntaxError, MemoryError):
        raise ExpressionError(
            f"the expression nests too deeply (at most about {MAX_DEPTH} levels of "
            "parentheses, 'not', 'and' and 'or'); simplify it"
        ) from None
    if checker.depth_reached > MAX_DEPTH:
        raise ExpressionError(
            f"the expression nests {checker.depth_reached} levels deep, more than {MAX_DEPTH}; "
            "simplify it"
        )
    return Expression(source, node, compiled, frozenset(checker.object_fields))


class _Checker:
    """Walks a parsed expression and refuses anything outside the language."""

    def __init__(self, fields: Mapping[str, str], *, has_object: bool, has_previous: bool) -> None:
        self.fields = fields
        self.items = {"object"} if has_object else set()
        if has_previous:
            self.items.add("previous_object")
        self.object_fields: set[str] = set()
        self.depth_reached = 0

    def condition(self, node: nodes.Node, depth: int = 1) -> None:
        """``node`` is used as a truth value."""
        self.depth_reached = max(self.depth_reached, depth)
        if depth > MAX_DEPTH:
            return
        if isinstance(node, nodes.And | nodes.Or):
            self.condition(node.left, depth + 1)
            self.condition(node.right, depth + 1)
        elif isinstance(node, nodes.Not):
            self.condition(node.node, depth + 1)
        elif isinstance(node, nodes.Const) and not isinstance(node.value, bool):
            raise ExpressionError(
                f"{node.value!r} is not a condition; use true or false, or a comparison"
            )
        elif isinstance(node, nodes.Compare):
            self.compare(node)
        elif isinstance(node, nodes.Call):
            self.call(node)
        else:
            kind = self.operand(node)
            if kind is not None and kind != "boolean":
                raise ExpressionError(
                    f"'{_text(node)}' is {kind}, not a condition; compare it, "
                    f"for example '{_text(node)} == user.id'"
                )

    def compare(self, node: nodes.Compare) -> None:
        if len(node.ops) != 1 or node.ops[0].op not in COMPARISONS:
            raise ExpressionError(
                "comparisons are ==, !=, in and not in between two operands; "
                "join several with 'and' or 'or'"
            )
        operator = node.ops[0].op
        left, right = node.expr, node.ops[0].expr
        for side in (left, right):
            if _is_list(side) and (side is left or operator in ("eq", "ne")):
                raise ExpressionError(_misplaced_list(side))
        left_kind, right_kind = self.operand(left), self.operand(right)
        if left_kind is not None and right_kind is not None:
            raise ExpressionError(
                f"'{_text(left)}' and '{_text(right)}' both read the item; compare a field "
                "of the item with the user or a literal"
            )
        if operator in ("in", "notin") and not _is_list(right):
            raise ExpressionError(
                f"'in' needs a list or user.roles on its right, not '{_text(right)}'"
            )
        kind = left_kind or right_kind
        if kind is None:
            return
        other = right if left_kind is not None else left
        _check_operand_type(kind, other, operator)

    def call(self, node: nodes.Call) -> None:
        name = node.node.name if isinstance(node.node, nodes.Name) else None
        if name not in _FUNCTIONS or node.kwargs or node.dyn_args or node.dyn_kwargs:
            raise ExpressionError(
                f"unknown function in '{_text(node)}'; use is_granted('<role>') or "
                "is_authenticated()"
            )
        if len(node.args) != _FUNCTIONS[name]:
            usage = "is_granted('<role>')" if name == "is_granted" else "is_authenticated()"
            raise ExpressionError(f"'{name}' is called as {usage}")
        if name == "is_granted" and not (
            isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
        ):
            raise ExpressionError("is_granted takes a role name in quotes: is_granted('admin')")

    def operand(self, node: nodes.Node) -> str | None:
        """Check a value; return the field type when it reads the item, else ``None``."""
        if isinstance(node, nodes.Const):
            if node.value is not None and type(node.value) not in _LITERAL_TYPES:
                raise ExpressionError(f"unsupported literal {node.value!r}")
            if type(node.value) is int and not INTEGER_RANGE[0] <= node.value <= INTEGER_RANGE[1]:
                raise ExpressionError(f"{node.value} does not fit a 64-bit integer")
            return None
        if isinstance(node, nodes.List | nodes.Tuple):
            for item in node.items:
                if not isinstance(item, nodes.Const):
                    raise ExpressionError("lists hold literals only: ['a', 'b']")
                self.operand(item)
            return None
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            owner, attribute = node.node.name, node.attr
            if owner == "user":
                if attribute not in _USER_ATTRIBUTES:
                    raise ExpressionError(
                        f"'user.{attribute}' does not exist; use user.id or user.roles"
                    )
                return None
            if owner in self.items:
                if attribute not in self.fields:
                    names = ", ".join(sorted(self.fields))
                    raise ExpressionError(
                        f"'{owner}.{attribute}' is not a field; use one of: {names}"
                    )
                self.object_fields.add(attribute)
                return self.fields[attribute]
            if owner in ("object", "previous_object"):
                raise ExpressionError(_no_item(owner))
            raise ExpressionError(
                f"unknown name '{owner}' in '{_text(node)}'; use user.id, user.roles, "
                "object.<field>, is_granted('<role>') or is_authenticated()"
            )
        if isinstance(node, nodes.Name):
            if node.name in ("object", "previous_object") and node.name not in self.items:
                raise ExpressionError(_no_item(node.name))
            raise ExpressionError(
                f"'{node.name}' cannot be used on its own; use user.id, user.roles, "
                "object.<field>, is_granted('<role>') or is_authenticated()"
            )
        if isinstance(node, nodes.Call):
            self.call(node)  # refuses an unknown function as such
            raise ExpressionError(f"'{_text(node)}' is a condition, not a value")
        raise ExpressionError(
            f"'{_text(node)}' is not supported; expressions compare user.id, user.roles, "
            "object.<field> and literals with ==, !=, in, not in"
        )


def _check_operand_type(kind: str, other: nodes.Node, operator: str) -> None:
    """The literal (or user value) compared with a field of type ``kind`` fits it."""
    if isinstance(other, nodes.Getattr):  # user.id or user.roles
        if other.attr == "roles" and operator in ("eq", "ne"):
            raise ExpressionError("user.roles is a list; test a role with is_granted('<role>')")
        if kind not in _TEXT_TYPES:
            raise ExpressionError(
                f"user.{other.attr} is text and cannot be compared with {_field(kind)}"
            )
        return
    values = other.items if isinstance(other, nodes.List | nodes.Tuple) else [other]
    if operator in ("in", "notin") and not isinstance(other, nodes.List | nodes.Tuple):
        raise ExpressionError("'in' needs a list of literals on its right: ['a', 'b']")
    for value in values:
        assert isinstance(value, nodes.Const)
        literal = value.value
        if literal is not None and kind not in _LITERAL_TYPES.get(type(literal), ()):
            raise ExpressionError(
                f"{literal!r} cannot be compared with {_field(kind)}{_LITERAL_HINTS.get(kind, '')}"
            )


_LITERAL_HINTS = {
    "date": ", which compares with none only",
    "datetime": ", which compares with none only",
    "uuid": ", which compares with none only",
    "json": ", which compares with none only",
    "decimal": ", which compares with whole numbers and none",
}


def _misplaced_list(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr):
        return (
            "user.roles is a list: test a role with is_granted('<role>') or '<role>' in user.roles"
        )
    return "a list goes on the right of 'in' or 'not in' only: compare single values with == and !="


def _field(kind: str) -> str:
    """``an integer field``, ``a string field``."""
    return f"{'an' if kind in ('integer', 'enum') else 'a'} {kind} field"


def _is_list(node: nodes.Node) -> bool:
    if isinstance(node, nodes.List | nodes.Tuple):
        return True
    return (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and (node.node.name, node.attr) == ("user", "roles")
    )


def _no_item(name: str) -> str:
    if name == "previous_object":
        return "'previous_object' exists only for put and patch"
    return "this operation has no item: 'object' exists only for item operations and post"


def _text(node: nodes.Node) -> str:
    """A short rendering of ``node`` for messages."""
    if isinstance(node, nodes.Getattr):
        return f"{_text(node.node)}.{node.attr}"
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Call):
        return f"{_text(node.node)}(...)"
    return type(node).__name__.lower()
