"""The rules of one resource applied to its REST requests.

Denials answer as API Platform does: 401 with ``WWW-Authenticate: Bearer`` for an anonymous
client, 403 otherwise, both problem+json, the rule's ``message`` (when declared) as the
detail. Collections are limited by the read rule (that of ``get``), compiled to SQL for the
requesting user, so a collection lists, counts, filters and orders exactly the items that
``GET`` on each item would show that user, and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from app.access import query
from app.access.residual import residual
from app.access.user import User
from app.config.spec import OPERATIONS, Operation, ResourceSpec, Rule
from app.errors import Forbidden, Unauthorized

__all__ = ["Guard"]

ANONYMOUS_DETAIL = "Full authentication is required to access this resource."
DENIED_DETAIL = "Access Denied."

CurrentUser = Callable[[], User | None]
"""The user of the current request (``None``: anonymous); raises 401 for a bad token."""


class Guard:
    """Decides the operations of ``resource`` for the current request's user."""

    def __init__(self, resource: ResourceSpec, current_user: CurrentUser) -> None:
        self.resource = resource
        self.current_user = current_user
        self._names = ("id", *(f.name for f in resource.fields))
        security = resource.security
        self._judged = frozenset(
            operation
            for operation in OPERATIONS
            if security.rule(operation).expression is not None
            or (operation == "get_collection" and security.read is not None)
            or (operation == "post" and resource.owner is not None)
        )
        """Operations whose answer depends on the user; the others never read a token."""

    def enter(self, operation: Operation) -> User | None:
        """Refuse ``operation`` now if its rule denies this user whatever the item (before
        the body is read); return the user (``None`` as well for an operation whose
        answer does not depend on the user: its token is not even read)."""
        if operation not in self._judged:
            return None
        user = self.current_user()
        expression = self.resource.security.rule(operation).expression
        if expression is not None and residual(expression, user) is False:
            raise self._denial(self.resource.security.rule(operation), user)
        return user

    def check(
        self, operation: Operation, user: User | None, obj: object = None, previous: object = None
    ) -> None:
        """Refuse ``operation`` on ``obj`` (``previous``: its state before a change).

        A rule whose residual for ``user`` is already ``True`` or ``False`` is decided
        without the item; otherwise the sandbox evaluates it on the item."""
        rule = self.resource.security.rule(operation)
        if rule.expression is None:
            return
        decided = residual(rule.expression, user)
        allowed = (
            decided
            if isinstance(decided, bool)
            else rule.expression.allows(user, _fields(obj), _fields(previous))
        )
        if not allowed:
            raise self._denial(rule, user)

    def visible(self, user: User | None, model: type[Any]) -> ColumnElement[bool] | None:
        """The ``WHERE`` clause of the items ``user`` may read; ``None`` when all."""
        read = self.resource.security.read
        if read is None:
            return None
        return query.where(residual(read, user), model)

    def candidate(self, values: Mapping[str, Any], stored: sa.Row[Any] | None = None) -> object:
        """The item as it would be written: ``values`` over the fields of the row
        ``stored`` (a new item's other fields are ``None``, as on a model instance before
        its ``INSERT``), for :meth:`check`."""
        base: Mapping[Any, Any] = {} if stored is None else stored._mapping
        return SimpleNamespace(**{name: values.get(name, base.get(name)) for name in self._names})

    def _denial(self, rule: Rule, user: User | None) -> Unauthorized | Forbidden:
        if user is None:
            return Unauthorized(rule.message or ANONYMOUS_DETAIL)
        return Forbidden(rule.message or DENIED_DETAIL)


def _fields(item: object) -> object:
    """What a rule reads as ``object``: a model instance as it is, a row of columns by
    attribute as an object of those attributes (a ``Row``'s own attributes, such as ``t``
    or ``count``, must not stand for fields of those names)."""
    if isinstance(item, sa.Row):
        return SimpleNamespace(**item._mapping)
    return item
