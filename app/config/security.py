"""The ``security`` and ``owner`` keys of a resource: checked, then resolved per operation.

``security`` is an expression (the rule of every operation), or a mapping with ``rule`` and
``message`` (the defaults) and ``operations`` (a rule per operation: an expression,
``public``, or ``{rule, message}``). An operation's rule is its own, else the default, else
none. Expressions are parsed here, when the file loads (:mod:`app.access.expression`), and
every mistake is reported at its dotted key. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.access.audience import check_audience
from app.access.expression import Expression, ExpressionError, parse_expression
from app.config.errors import Problems, join
from app.config.spec import OPERATIONS, PUBLIC, Operation, Rule, SecuritySpec

__all__ = ["build_security", "check_security"]

_OWNER_TYPES = ("string", "text")
_ITEM_OPERATIONS: frozenset[Operation] = frozenset({"post", "get", "put", "patch", "delete"})
_CHANGES: frozenset[Operation] = frozenset({"put", "patch"})


def check_security(options: dict[str, Any], path: str, problems: Problems) -> None:
    """Report every problem of the resource's ``owner`` and ``security`` keys."""
    _check_owner(options, path, problems)
    security = options.get("security")
    if security is None:
        return
    enabled = options.get("operations", list(OPERATIONS))
    base = join(path, "security")
    for operation in security.get("operations", {}):
        if operation not in enabled:
            problems.add(
                join(join(base, "operations"), operation),
                f"a rule for '{operation}', which is not an enabled operation",
                "remove the rule or enable the operation",
            )
    fields = _field_types(options)
    reported: set[tuple[str, str]] = set()
    for operation in _judged(enabled):
        where, raw = _declared(security, operation, base)
        if raw is None or "rule" not in raw:  # a missing 'rule' is reported by the schema
            continue
        try:
            expression = _parse(raw["rule"], fields, operation)
        except ExpressionError as error:
            if (where, str(error)) not in reported:
                reported.add((where, str(error)))
                problems.add(where, f"{error} (rule of {operation})", _fix(error))
            continue
        if operation == "get" and expression is not None:
            _check_read(expression, options, path, where, problems)


def build_security(options: dict[str, Any]) -> SecuritySpec:
    """The rule of every enabled operation, and of ``get`` in any case (the read rule,
    which also limits collections and live updates); call only after
    :func:`check_security`."""
    security = options.get("security")
    if security is None:
        return SecuritySpec()
    fields = _field_types(options)
    rules: list[tuple[Operation, Rule]] = []
    for operation in _judged(options.get("operations", OPERATIONS)):
        _, raw = _declared(security, operation, "")
        if raw is None:
            continue
        expression = _parse(raw["rule"], fields, operation)
        message = raw.get("message", security.get("message"))
        rules.append((operation, Rule(expression, public=expression is None, message=message)))
    return SecuritySpec(tuple(rules))


def _judged(enabled: Sequence[Operation]) -> list[Operation]:
    """The operations whose rule is read: the enabled ones, and ``get``, whose rule is the
    read rule even when items are not served one by one."""
    return [operation for operation in OPERATIONS if operation in enabled or operation == "get"]


def _declared(
    security: dict[str, Any], operation: Operation, base: str
) -> tuple[str, dict[str, Any] | None]:
    """Where the rule of ``operation`` is written, and its ``{rule, message}``."""
    own = security.get("operations", {}).get(operation)
    if own is not None:
        return join(join(join(base, "operations"), operation), "rule"), own
    if "rule" in security:
        return join(base, "rule"), {"rule": security["rule"]}
    return base, None


def _parse(source: str, fields: dict[str, str], operation: Operation) -> Expression | None:
    if source.strip() == PUBLIC:
        return None
    return parse_expression(
        source,
        fields,
        has_object=operation in _ITEM_OPERATIONS,
        has_previous=operation in _CHANGES,
    )


def _check_read(
    expression: Expression, options: dict[str, Any], path: str, where: str, problems: Problems
) -> None:
    """A resource whose reads are restricted publishes private updates to their readers."""
    mercure = options.get("mercure")
    if not mercure:
        return
    if isinstance(mercure, dict) and mercure.get("private") is False:
        problems.add(
            join(join(path, "mercure"), "private"),
            "updates are public but the get rule restricts who may read an item",
            "remove 'private: false': updates of a resource with a read rule are private",
        )
    try:
        check_audience(expression)
    except ExpressionError as error:
        problems.add(where, str(error), "see docs/security.md")


def _check_owner(options: dict[str, Any], path: str, problems: Problems) -> None:
    owner = options.get("owner")
    if owner is None:
        return
    field = options.get("fields", {}).get(owner)
    if field is None:
        problems.add(
            join(path, "owner"),
            f"the owner '{owner}' is not a field",
            "name a string field, for example 'owner: author' with 'author: string'",
        )
    elif field.get("type") not in _OWNER_TYPES or field.get("write_only"):
        problems.add(
            join(path, "owner"),
            f"the owner '{owner}' must be a readable string or text field",
            f"declare '{owner}' with 'type: string'",
        )


def _field_types(options: dict[str, Any]) -> dict[str, str]:
    fields = {name: field.get("type", "") for name, field in options.get("fields", {}).items()}
    return {"id": "integer", **fields}


def _fix(error: ExpressionError) -> str:
    message = str(error)
    if "has no item" in message or "exists only for put" in message:
        return "give this operation a rule of its own under security.operations"
    return "see docs/security.md for the expression language"
