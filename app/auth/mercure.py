"""Subscriber tokens for a user: ``GET /auth/mercure``.

The token's ``mercure.subscribe`` selectors are the audience topics the user's read rules
grant (:func:`app.access.audience.grants`), so it receives an item's private update exactly
when it may ``GET`` the item. It expires with the user's own token, or after the configured
lifetime if that comes first. The answer is ``{"token", "subscribe", "expiresAt"}`` and the
same token is set as the hub's authorization cookie (HttpOnly, SameSite=Strict, Secure under
https, path of the hub), which ``EventSource`` sends by itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from app.access.audience import AUDIENCE_PATH, grants
from app.access.user import User
from app.config.spec import ResourcesSpec
from app.errors import Unauthorized
from app.hub.command import mint_token

__all__ = ["PATH", "SubscriberTokens", "blueprint"]

PATH = "/auth/mercure"


@dataclass(frozen=True)
class SubscriberTokens:
    """Mints subscriber tokens with the hub's subscriber ``key`` and ``algorithm``."""

    spec: ResourcesSpec
    key: str
    algorithm: str
    lifetime: float

    def selectors(self, user: User, origin: str) -> list[str]:
        """The audience topics of every published resource that ``user`` may receive."""
        topics: list[str] = []
        for resource in self.spec.resources:
            read = resource.security.read
            if resource.mercure.enabled and read is not None:
                topics += grants(read, user, f"{origin}{AUDIENCE_PATH}{resource.route}")
        return topics

    def mint(self, user: User, origin: str) -> tuple[str, list[str], int]:
        """``(token, selectors, expires_at)`` for ``user``; never outlives its token."""
        now = time.time()
        expires_at = int(now + self.lifetime)
        if user.expires_at is not None:
            expires_at = min(expires_at, int(user.expires_at))
        selectors = self.selectors(user, origin)
        token = mint_token(
            self.key,
            self.algorithm,
            subscribe=tuple(selectors),
            payload={"user": user.id},
            expires_at=expires_at,
        )
        return token, selectors, expires_at


def blueprint(
    tokens: SubscriberTokens,
    current_user: Callable[[], User | None],
    origin: Callable[[], str],
    cookie_name: str,
    hub_path: str,
) -> Blueprint:
    """The ``/auth/mercure`` route; 401 for an anonymous request."""
    routes = Blueprint("auth", __name__)

    @routes.get(PATH)
    def subscriber_token() -> Response:
        user = current_user()
        if user is None:
            raise Unauthorized("Send a bearer token to obtain a Mercure subscriber token.")
        if user.expires_at is not None and user.expires_at <= time.time():
            # accepted within the clock leeway, but a subscriber token would be born expired
            raise Unauthorized(
                "The bearer token has expired; renew it to obtain a subscriber token.",
                error="invalid_token",
                reason="the token has expired",
            )
        token, selectors, expires_at = tokens.mint(user, origin())
        response = jsonify(
            token=token,
            subscribe=selectors,
            expiresAt=datetime.fromtimestamp(expires_at, UTC).isoformat().replace("+00:00", "Z"),
        )
        response.headers["Cache-Control"] = "no-store"
        response.set_cookie(
            cookie_name,
            token,
            expires=expires_at,
            path=hub_path,
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response

    return routes
