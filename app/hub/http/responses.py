"""What every action of the hub's HTTP face shares: paths, plain-text errors, token lookup."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Response, request

from app.hub.auth import (
    AuthorizationError,
    Claims,
    Verifier,
    extract_token,
    origin_allowed,
    request_origin,
)
from app.hub.namespace import HUB_PATH
from app.hub.oauth import is_access_token
from app.hub.size import update_size
from app.hub.transport.base import TransportError
from app.hub.update import Update

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["HUB_PATH", "authorize", "published", "text", "unauthorized"]

logger = logging.getLogger(__name__)


def text(body: str, status: int) -> Response:
    """A ``text/plain`` error answer, shaped like Go's ``http.Error``."""
    return Response(
        body + "\n",
        status=status,
        content_type="text/plain; charset=utf-8",
        headers={"X-Content-Type-Options": "nosniff"},
    )


def unauthorized() -> Response:
    """The 0.x answer to a missing, invalid or insufficient token."""
    return text("Unauthorized", 401)


def authorize(
    verifier: Verifier, cookie_name: str, *, post_origins: tuple[str, ...] | None
) -> Claims | None:
    """Return the request's 0.x claims (``None`` when anonymous); raise AuthorizationError,
    also for a 1.0 access token (``typ: at+jwt``), which only 1.0 requests may carry."""
    found = extract_token(
        request.headers.get("Authorization"),
        request.args.getlist("authorization"),
        request.cookies.get(cookie_name),
    )
    if found is None:
        return None
    if is_access_token(found.token):
        # Each protocol by its own rules: a 1.0 access token grants nothing in 0.x.
        raise AuthorizationError("a Mercure 1.0 access token sent with a 0.x request")
    if found.source == "cookie" and post_origins is not None:
        origin = request_origin(request.headers.get("Origin"), request.headers.get("Referer"))
        if origin is None:
            raise AuthorizationError(
                'an "Origin" or a "Referer" HTTP header must be present to use the '
                "cookie-based authorization mechanism"
            )
        if not origin_allowed(origin, post_origins):
            raise AuthorizationError(f"{origin!r}: origin not allowed to post updates")
    return verifier.verify(found.token)


def published(
    hub: Hub,
    topics: list[str],
    *,
    data: str,
    private: bool,
    update_id: str,
    event_type: str,
    retry: int | None,
) -> Response:
    """Publish the update a checked form describes, in either protocol: ``413`` past
    ``MERCURE_MAX_UPDATE_SIZE``, ``500`` when the transport cannot take it, else ``200``
    with the update's id."""
    update = Update(
        topics=tuple(topics),
        data=data,
        private=private,
        id=update_id,
        type=event_type or None,
        retry=retry,
    )
    size = update_size(update)
    if size > hub.settings.max_update_size:
        return text(
            f"update too large: {size} bytes (SSE frame and topics), more than "
            f"MERCURE_MAX_UPDATE_SIZE={hub.settings.max_update_size}",
            413,
        )
    try:
        hub.publish(update)
    except TransportError as exc:
        logger.error("failed to dispatch update %s to topics %s: %s", update.id, topics, exc)
        return text("Internal Server Error", 500)
    return Response(update.id, status=200, content_type="text/plain; charset=utf-8")
