"""Mercure 1.0 helpers for the hub tests: access tokens from the test issuers."""

from __future__ import annotations

from typing import Any

import jwt

from app.hub.command import mint_access_token
from app.hub.matchers import EXACT, URLPATTERN, Matcher
from app.hub.oauth import AUTHORIZATION_DETAIL_TYPE
from tests.hub.conftest import TEST_KEY

LOCAL_ISSUER = "https://gateway.test"
"""The hub's own issuer in these tests (``MERCURE_ISSUER``), signing with ``TEST_KEY``."""


def exact(*values: str) -> list[Matcher]:
    return [Matcher(EXACT, value) for value in values]


def pattern(*values: str) -> list[Matcher]:
    return [Matcher(URLPATTERN, value) for value in values]


def access_token(
    resource: str,
    *,
    publish: list[Matcher] | None = None,
    subscribe: list[Matcher] | None = None,
    payload: dict[str, Any] | None = None,
    issuer: str = LOCAL_ISSUER,
    key: str = TEST_KEY,
    algorithm: str = "HS256",
    expires_in: float = 3600.0,
) -> str:
    """A 1.0 access token for the hub at ``resource``."""
    return mint_access_token(
        key,
        algorithm,
        issuer=issuer,
        audience=resource,
        publish=publish or [],
        subscribe=subscribe or [],
        payload=payload,
        expires_in=expires_in,
    )


def raw_token(
    claims: dict[str, Any], *, headers: dict[str, Any] | None = None, key: str = TEST_KEY
) -> str:
    """A token with exactly ``claims`` and header fields (``typ: at+jwt`` unless given)."""
    return jwt.encode(claims, key, algorithm="HS256", headers={"typ": "at+jwt", **(headers or {})})


def detail(actions: list[str], topics: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": AUTHORIZATION_DETAIL_TYPE, "actions": actions, "topics": topics, **extra}
