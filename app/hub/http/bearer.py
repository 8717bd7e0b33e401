"""Mercure 1.0 on the HTTP face: which protocol a request speaks, its access token, and
the RFC 6750 answers.

Protocol choice (:func:`subscribe_protocol`, :func:`token_protocol`): a subscription
request naming a ``match`` parameter (or ``last_event_id``) speaks 1.0, one naming
``topic`` speaks 0.x (both at once is a 400); a publish or subscriptions API request speaks
1.0 when its ``Authorization`` header carries a JWT access token (``typ: at+jwt``) or,
without that header, when it carries the 1.0 cookie, or no 0.x credential either (the 401
is then the same in both protocols, with 1.0's challenge). With ``MERCURE_PROTOCOLS=1.0`` every
request speaks 1.0.

A 1.0 token comes from the ``Authorization: Bearer`` header (any cookie is then ignored),
else from the ``MERCURE_ACCESS_TOKEN_COOKIE`` cookie, never from the query string: an
``access_token`` or ``authorization`` query parameter is a ``400 invalid_request``, as is
an ``Authorization`` header that is not a non-empty ``Bearer`` token. A ``POST`` carrying
the cookie must come from a publish origin (``Origin``, else ``Referer``), which defeats
cross-site request forgery.

Answers (:func:`challenge`): ``401`` with ``WWW-Authenticate: Bearer`` and no error code
when a needed token is missing, ``401 error="invalid_token"`` for a token that fails
validation (the reason is logged, never told), ``403 error="insufficient_scope"`` for a
valid token that does not grant the operation; every challenge carries
``resource_metadata``, the URL of the RFC 9728 document (:func:`metadata_path`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Response, request

from app.hub.auth import origin_allowed, request_origin
from app.hub.oauth import Grants, InvalidToken, is_access_token
from app.hub.settings import PROTOCOL_0X, PROTOCOL_1, HubSettings

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = [
    "BearerError",
    "bearer_grants",
    "challenge",
    "metadata_document",
    "metadata_path",
    "subscribe_protocol",
    "token_protocol",
]

logger = logging.getLogger(__name__)

METADATA_PREFIX = "/.well-known/oauth-protected-resource"
_BEARER = "bearer "
QUERY_TOKEN_NAMES = ("access_token", "authorization")


@dataclass
class BearerError(Exception):
    """An RFC 6750 failure: ``error`` is ``None`` for a missing token."""

    status: int
    error: str | None = None
    description: str | None = None


def metadata_path(resource: str) -> str:
    """The path of the protected resource metadata of the hub at ``resource`` (RFC 9728)."""
    return METADATA_PREFIX + (urlsplit(resource).path.rstrip("/") or "")


def metadata_url(resource: str) -> str:
    parts = urlsplit(resource)
    return f"{parts.scheme}://{parts.netloc}{metadata_path(resource)}"


def metadata_document(settings: HubSettings) -> dict[str, object]:
    """The hub's RFC 9728 protected resource metadata."""
    document: dict[str, object] = {
        "resource": settings.resource,
        "bearer_methods_supported": ["header"],
        "authorization_details_types_supported": ["https://mercure.rocks/authorization-detail"],
        "mercure_cookie": settings.access_token_cookie,
        "mercure_matcher_types_supported": ["exact", "urlpattern"],
    }
    servers = [issuer.identifier for issuer in settings.issuers if issuer.authorization_server]
    if servers:
        document["authorization_servers"] = servers
    if settings.subscriptions:
        document["mercure_subscriptions"] = True
    return document


def challenge(settings: HubSettings, failure: BearerError) -> Response:
    """The RFC 6750 answer to ``failure``, with its ``WWW-Authenticate: Bearer`` challenge."""
    params = []
    if failure.error is not None:
        params.append(f'error="{failure.error}"')
    if failure.description and failure.error != "invalid_token":
        params.append(f'error_description="{failure.description.replace(chr(34), chr(39))}"')
    params.append(f'resource_metadata="{metadata_url(settings.resource)}"')
    reason = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}[failure.status]
    return Response(
        reason + "\n",
        status=failure.status,
        content_type="text/plain; charset=utf-8",
        headers={
            "WWW-Authenticate": "Bearer " + ", ".join(params),
            "X-Content-Type-Options": "nosniff",
        },
    )


def subscribe_protocol(settings: HubSettings, names: list[str]) -> str | None:
    """The protocol of a subscription request whose query names are ``names``; ``None``
    when it mixes 0.x ``topic`` and 1.0 ``match`` parameters."""
    v1 = any(name[:5].lower() == "match" or name == "last_event_id" for name in names)
    legacy = "topic" in names
    if v1 and legacy:
        return None
    if not settings.legacy:
        return PROTOCOL_1
    if not settings.v1:
        return PROTOCOL_0X
    return PROTOCOL_1 if v1 else PROTOCOL_0X


def token_protocol(settings: HubSettings) -> str:
    """The protocol of a publish or subscriptions API request, by its credentials."""
    if not settings.legacy:
        return PROTOCOL_1
    if not settings.v1:
        return PROTOCOL_0X
    header = request.headers.get("Authorization")
    if header is not None:
        token = header[len(_BEARER) :].strip()
        return PROTOCOL_1 if is_access_token(token) else PROTOCOL_0X
    if request.cookies.get(settings.access_token_cookie) is not None:
        return PROTOCOL_1
    if request.cookies.get(settings.cookie_name) is not None or "authorization" in request.args:
        return PROTOCOL_0X
    # No credentials: the same 401 in both protocols, with 1.0's challenge.
    return PROTOCOL_1


def bearer_grants(
    hub: Hub, role: str, *, post_origins: tuple[str, ...] | None = None
) -> Grants | None:
    """The grants of the request's 1.0 access token (``None`` without one); raise
    :class:`BearerError`."""
    settings = hub.settings
    if any(name in request.args for name in QUERY_TOKEN_NAMES):
        raise BearerError(
            400,
            "invalid_request",
            "access tokens are not accepted in the query string: use the Authorization "
            "header or the cookie",
        )
    header = request.headers.get("Authorization")
    if header is not None:
        if header[: len(_BEARER)].lower() != _BEARER or not header[len(_BEARER) :].strip():
            raise BearerError(400, "invalid_request", 'use "Authorization: Bearer <token>"')
        token = header[len(_BEARER) :].strip()
    else:
        cookie = request.cookies.get(settings.access_token_cookie)
        if cookie is None:
            return None
        if post_origins is not None:
            origin = request_origin(request.headers.get("Origin"), request.headers.get("Referer"))
            if not origin_allowed(origin, post_origins):
                raise BearerError(
                    403, "insufficient_scope", "this origin may not publish with the cookie"
                )
        token = cookie
    try:
        return hub.access_tokens.verify(token, role)
    except InvalidToken as error:
        logger.info("refused a 1.0 access token: %s", error)
        raise BearerError(401, "invalid_token") from None
