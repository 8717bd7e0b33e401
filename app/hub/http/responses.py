"""What every action of the hub's HTTP face shares: paths, plain-text errors, token lookup."""

from __future__ import annotations

from flask import Response, request

from app.hub.auth import (
    AuthorizationError,
    Claims,
    Verifier,
    extract_token,
    origin_allowed,
    request_origin,
)
from app.hub.oauth import is_access_token

__all__ = ["HUB_PATH", "authorize", "text", "unauthorized"]

HUB_PATH = "/.well-known/mercure"


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
