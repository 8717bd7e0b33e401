"""Users of a gunicorn-hosted gateway that checks bearer tokens: the access tests' helpers.

The gateway verifies users' tokens with :data:`AUTH_KEY` (``AUTH_JWT_KEY``); an
:class:`Actor` is a user of the shipped bookshop (or the anonymous client) with a token
minted as ``flask auth token`` mints it. Every request is made on a new connection, as
independent clients make them, and answered as-is: the tests decide what is right.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.auth.command import mint_user_token
from tests.deploy.gateway import PUBLIC_URL, WAIT, gateway_env

AUTH_KEY = "access-tests-only-users-key-of-at-least-64-bytes-for-every-hmac-alg"
ALGORITHM = "HS256"
ADMIN = "admin"
TOKEN_LIFETIME = 3600.0
REVIEW_TOPIC = f"{PUBLIC_URL}/reviews/{{id}}"
BOOK_TOPIC = f"{PUBLIC_URL}/books/{{id}}"
REVIEW_PATTERN = f"{PUBLIC_URL}/reviews/:id"
BOOK_PATTERN = f"{PUBLIC_URL}/books/:id"
"""The same topics as Mercure 1.0 URL Patterns."""
JSONLD = "application/ld+json"
PROBLEM = "application/problem+json"


def access_env(database_url: str, **extra: str) -> dict[str, str]:
    """A gateway with the in-process hub and users' tokens signed with :data:`AUTH_KEY`."""
    return gateway_env(database_url, "memory://", AUTH_JWT_KEY=AUTH_KEY, **extra)


def user_token(subject: str, *roles: str, expires_in: float = TOKEN_LIFETIME) -> str:
    """A user's bearer token, signed with the gateway's key."""
    return mint_user_token(AUTH_KEY, ALGORITHM, subject, roles, expires_in=expires_in)


@dataclass(frozen=True)
class Actor:
    """A client of the API: ``name`` is the token's ``sub`` (``None``: anonymous)."""

    name: str | None
    roles: tuple[str, ...] = ()
    token: str | None = field(default=None, repr=False)

    @classmethod
    def user(cls, name: str, *roles: str) -> Actor:
        return cls(name, roles, user_token(name, *roles))

    @property
    def admin(self) -> bool:
        return ADMIN in self.roles

    @property
    def label(self) -> str:
        if self.name is None:
            return "anonymous"
        return f"{self.name} (admin)" if self.admin else self.name

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"Accept": JSONLD, **extra}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers


ANONYMOUS = Actor(None)


class Api:
    """Requests to the gateway at ``base_url`` as one actor or another."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._client = httpx.Client(base_url=base_url, timeout=WAIT)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        actor: Actor,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        content_type = "application/merge-patch+json" if method == "PATCH" else JSONLD
        sent = actor.headers(**({"Content-Type": content_type} if body is not None else {}))
        sent.update(headers or {})
        return self._client.request(
            method,
            path,
            content=None if body is None else json.dumps(body).encode(),
            params=None if params is None else dict(params),
            headers=sent,
        )

    def subscriber_token(self, actor: Actor, protocol: str = "0.x") -> dict[str, Any]:
        """``GET /auth/mercure`` as ``actor``: ``{"token", "subscribe", "expiresAt",
        "protocol"}``, a Mercure 1.0 access token for ``protocol="1.0"``."""
        response = self.request(actor, "GET", "/auth/mercure", params={"protocol": protocol})
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer


def describe(response: httpx.Response) -> str:
    """The request and its answer, for assertion messages."""
    request = response.request
    return f"{request.method} {request.url} -> {response.status_code} {response.text[:500]}"
