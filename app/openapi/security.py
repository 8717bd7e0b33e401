"""Who may call what, in the document: the bearer scheme and ``GET /auth/mercure``.

An operation whose rule is an expression (:meth:`~app.config.spec.SecuritySpec.rule`) needs
a user: it carries ``security: [{bearerAuth: []}]`` and answers 401 (anonymous, or a token
that cannot be trusted) and 403 (the rule denies this user). So does the create of a
resource with an ``owner``, whatever its rule (the owner is the creator), with 401 only when
no rule can deny. A collection open to everyone but limited by its resource's read rule takes
an optional token, ``[{bearerAuth: []}, {}]``, and answers 401 for one it cannot trust.
Any other operation, ``public`` or without a rule, carries no ``security``: the document sets
no document-wide requirement, so an operation without one needs no credentials
(``security: []`` would only override a document-wide requirement, and there is none). The
``bearerAuth`` scheme (HTTP bearer, JWT) is declared when some operation uses it.

Pure functions, like the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config.spec import Operation, ResourceSpec, ResourcesSpec
from app.openapi.schema import Schema, ref

SCHEME = "bearerAuth"
BEARER_SCHEME: dict[str, str] = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A user's JWT from the identity provider (or `flask auth token` in "
    "development), sent as `Authorization: Bearer <token>`.",
}
SECURITY_ERRORS: tuple[str, ...] = ("401", "403")
SUBSCRIBER_TOKEN_SCHEMA = "MercureSubscriberToken"
TAG = "Authentication"


@dataclass(frozen=True)
class SubscriberTokenRoute:
    """``GET <path>`` issues subscriber tokens, also set as the cookie ``cookie_name``
    whose path is the hub's ``hub_path``."""

    path: str
    cookie_name: str
    hub_path: str


def requirement() -> list[dict[str, list[str]]]:
    """The ``security`` of an operation that needs a user (a new list each time)."""
    return [{SCHEME: []}]


def access(
    resource: ResourceSpec, operation: Operation
) -> tuple[list[Any] | None, tuple[str, ...]]:
    """The ``security`` of ``operation`` (``None``: it reads no token) and the statuses of
    the denials it may answer, as :class:`~app.access.guard.Guard` and the views decide."""
    if resource.security.rule(operation).expression is not None:
        return requirement(), SECURITY_ERRORS
    if operation == "post" and resource.owner is not None:
        # The owner is the creator: anonymous creates are refused, no rule to deny others.
        return requirement(), ("401",)
    if operation == "get_collection" and resource.security.read is not None:
        # Open, but limited to what the user may read: a token is optional, and one that
        # cannot be trusted is refused.
        return [*requirement(), {}], ("401",)
    return None, ()


def any_secured(spec: ResourcesSpec) -> bool:
    """Whether some enabled operation of ``spec`` reads a bearer token."""
    return any(access(r, op)[0] is not None for r in spec.resources for op in r.operations)


def subscriber_token_path_item(route: SubscriberTokenRoute) -> dict[str, Any]:
    """The path item of ``GET /auth/mercure``."""
    cookie = (
        f"`{route.cookie_name}=<token>; Path={route.hub_path}; HttpOnly; SameSite=Strict` "
        "(and `Secure` under https)"
    )
    return {
        "get": {
            "operationId": "getMercureSubscriberToken",
            "tags": [TAG],
            "summary": "Issues a Mercure subscriber token for the authenticated user.",
            "description": "The token's `mercure.subscribe` selectors are the audience topics "
            "of the items the user may read, so the hub delivers an item's private update "
            "exactly when the user may `GET` the item. It expires with the user's own token, "
            "or earlier. The same token is set as the hub's authorization cookie, which "
            "`EventSource` sends to the hub by itself; send it to the hub as "
            "`Authorization: Bearer` otherwise. With `protocol=1.0`, a Mercure 1.0 access "
            "token (`typ: at+jwt`) whose `subscribe` authorization detail lists the same "
            "topics as `exact` matchers, set in the 1.0 cookie "
            "(`__Secure-mercure_access_token` unless configured).",
            "parameters": [
                {
                    "name": "protocol",
                    "in": "query",
                    "required": False,
                    "description": "The Mercure protocol of the token: `0.x` (default) or `1.0`.",
                    "schema": {"type": "string", "enum": ["0.x", "1.0"], "default": "0.x"},
                }
            ],
            "security": requirement(),
            "responses": {
                "200": {
                    "description": "The subscriber token, its selectors and its expiry.",
                    "headers": {
                        "Set-Cookie": {
                            "description": f"The same token for the hub: {cookie}.",
                            "schema": {"type": "string"},
                        },
                        "Cache-Control": {
                            "description": "Always `no-store`.",
                            "schema": {"type": "string", "enum": ["no-store"]},
                        },
                    },
                    "content": {"application/json": {"schema": ref(SUBSCRIBER_TOKEN_SCHEMA)}},
                },
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }
    }


def subscriber_token_schema() -> Schema:
    """The body of ``GET /auth/mercure``."""
    return {
        "type": "object",
        "required": ["token", "subscribe", "expiresAt"],
        "properties": {
            "token": {
                "type": "string",
                "description": "The subscriber JWT, signed with the hub's subscriber key.",
            },
            "subscribe": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The token's `mercure.subscribe` selectors (audience topics).",
            },
            "expiresAt": {
                "type": "string",
                "format": "date-time",
                "description": "When the token expires (UTC).",
            },
            "protocol": {
                "type": "string",
                "enum": ["0.x", "1.0"],
                "description": "The Mercure protocol of the token.",
            },
        },
    }
