"""Subscriber tokens for a user: ``GET /auth/mercure``.

The token's ``mercure.subscribe`` selectors are the audience topics the user's read rules
grant (:func:`app.access.audience.grants`), so it receives an item's private update exactly
when it may ``GET`` the item. It expires with the user's own token, or after the configured
lifetime if that comes first. The answer is ``{"token", "subscribe", "expiresAt"}`` and the
same token is set as the hub's authorization cookie (HttpOnly, SameSite=Strict, Secure under
https, path of the hub), which ``EventSource`` sends by itself.

``GET /auth/mercure?protocol=1.0`` answers a Mercure 1.0 access token instead (``typ:
at+jwt``, issued by the hub's own issuer for its resource identifier, one ``subscribe``
authorization detail of ``exact`` matchers, the same audience topics), with ``"protocol":
"1.0"`` in the answer, and sets it as the 1.0 cookie (``MERCURE_ACCESS_TOKEN_COOKIE``;
always ``Secure`` when its name has the ``__Secure-`` prefix, as browsers demand).
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
from app.errors import BadRequest, Unauthorized
from app.hub.command import mint_access_token, mint_token
from app.hub.matchers import EXACT, Matcher

__all__ = ["PATH", "SubscriberTokens", "blueprint"]

PATH = "/auth/mercure"


@dataclass(frozen=True)
class SubscriberTokens:
    """Mints subscriber tokens with the hub's subscriber ``key`` and ``algorithm``."""

    spec: ResourcesSpec
    key: str
    algorithm: str
    lifetime: float
    issuer: str = ""
    """The hub's own issuer of 1.0 tokens (empty when the hub does not speak 1.0)."""
    resource: str = ""
    """The hub's resource identifier, the audience of 1.0 tokens."""

    def selectors(self, user: User, origin: str) -> list[str]:
        """The audience topics of every published resource that ``user`` may receive."""
        topics: list[str] = []
        for resource in self.spec.resources:
            read = resource.security.read
            if resource.mercure.enabled and read is not None:
                topics += grants(read, user, f"{origin}{AUDIENCE_PATH}{resource.route}")
        return topics

    def mint(self, user: User, origin: str, *, v1: bool = False) -> tuple[str, list[str], int]:
        """``(token, selectors, expires_at)`` for ``user``; never outlives its token.
        ``v1``: a 1.0 access token whose ``subscribe`` matchers are the selectors."""
        now = time.time()
        expires_at = int(now + self.lifetime)
        if user.expires_at is not None:
            expires_at = min(expires_at, int(user.expires_at))
        selectors = self.selectors(user, origin)
        if v1:
            token = mint_access_token(
                self.key,
                self.algorithm,
                issuer=self.issuer,
                audience=self.resource,
                # No matcher would grant nothing: an empty list is refused by hubs.
                subscribe=[Matcher(EXACT, topic) for topic in selectors]
                or [Matcher(EXACT, f"{origin}{AUDIENCE_PATH}")],
                payload={"user": user.id},
                subject=user.id,
                expires_at=expires_at,
            )
            return token, selectors, expires_at
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
    access_token_cookie: str = "",
) -> Blueprint:
    """The ``/auth/mercure`` route; 401 for an anonymous request. ``access_token_cookie``
    is the 1.0 cookie's name, empty when the hub does not speak 1.0."""
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
        protocol = request.args.get("protocol", "0.x")
        if protocol not in ("0.x", "1.0") or (protocol == "1.0" and not access_token_cookie):
            raise BadRequest(
                f"protocol={protocol!r}: ask for protocol=1.0 (if the hub speaks it) or 0.x"
            )
        v1 = protocol == "1.0"
        token, selectors, expires_at = tokens.mint(user, origin(), v1=v1)
        response = jsonify(
            token=token,
            subscribe=selectors,
            expiresAt=datetime.fromtimestamp(expires_at, UTC).isoformat().replace("+00:00", "Z"),
            protocol=protocol,
        )
        response.headers["Cache-Control"] = "no-store"
        name = access_token_cookie if v1 else cookie_name
        response.set_cookie(
            name,
            token,
            expires=expires_at,
            path=hub_path,
            secure=request.is_secure or name.startswith("__Secure-"),
            httponly=True,
            samesite="Strict",
        )
        return response

    return routes
