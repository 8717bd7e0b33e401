"""Time claims and Mercure claims read as the reference hub reads them, for the hub's tokens
and users' bearer tokens alike: table tests, then properties over any claim values."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.access.user import User
from app.auth.authenticator import Authenticator
from app.auth.settings import AuthSettings
from app.errors import Unauthorized
from app.hub.auth import AuthorizationError, Verifier, check_time_claims, parse_claims

KEY = "token-claims-tests-key-of-at-least-32-bytes"
NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("claims", "leeway", "refusal"),
    [
        ({}, 0, None),
        ({"exp": NOW + 1}, 0, None),
        ({"exp": NOW}, 0, "Signature has expired"),
        ({"exp": NOW - 5}, 10, None),
        ({"exp": NOW - 10}, 10, "Signature has expired"),
        ({"nbf": NOW + 1}, 0, "not yet valid"),
        ({"nbf": NOW + 5}, 10, None),
        ({"iat": NOW + 3600}, 0, None),  # iat is not compared with the clock
        ({"exp": str(int(NOW + 60))}, 0, '"exp" claim must be a number'),
        ({"nbf": "0"}, 0, '"nbf" claim must be a number'),
        ({"iat": "now"}, 0, '"iat" claim must be a number'),
        ({"exp": True}, 0, '"exp" claim must be a number'),
        ({"exp": None}, 0, '"exp" claim must be a number'),
        ({"exp": NOW + 0.5}, 0, None),
        ({"exp": 10**400}, 0, '"exp" claim is out of range'),
        ({"nbf": -(10**400)}, 0, '"nbf" claim is out of range'),
        ({"iat": 10**400}, 0, '"iat" claim is out of range'),
        ({"exp": float("inf")}, 0, '"exp" claim is out of range'),
    ],
)
def test_time_claims(claims: dict[str, Any], leeway: float, refusal: str | None) -> None:
    if refusal is None:
        check_time_claims(claims, leeway, now=NOW)
    else:
        with pytest.raises(ValueError, match=refusal):
            check_time_claims(claims, leeway, now=NOW)


def sign(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, KEY, algorithm="HS256")


def test_an_exp_past_any_float_is_refused_not_a_server_error() -> None:
    verifier = Verifier("HS256", KEY)
    with pytest.raises(AuthorizationError, match="out of range"):
        verifier.verify(sign({"exp": 10**400, "mercure": {"publish": ["*"]}}))
    with pytest.raises(Unauthorized):
        Authenticator(AuthSettings(key=KEY)).verify(sign({"sub": "alice", "exp": 10**400}))


def test_the_hub_refuses_a_numeric_string_exp_and_ignores_a_future_iat() -> None:
    verifier = Verifier("HS256", KEY)
    with pytest.raises(AuthorizationError, match='"exp" claim must be a number'):
        verifier.verify(sign({"exp": str(int(time.time()) + 60), "mercure": {"publish": ["*"]}}))
    claims = verifier.verify(sign({"iat": int(time.time()) + 30, "mercure": {"publish": ["*"]}}))
    assert claims.publish == ("*",)


def test_the_hub_leeway_admits_a_recently_expired_token() -> None:
    token = sign({"exp": int(time.time()) - 2, "mercure": {"subscribe": ["*"]}})
    with pytest.raises(AuthorizationError, match="expired"):
        Verifier("HS256", KEY).verify(token)
    assert Verifier("HS256", KEY, leeway=10).verify(token).subscribe == ("*",)


def test_users_tokens_follow_the_same_reading() -> None:
    users = Authenticator(AuthSettings(key=KEY, leeway=0))
    with pytest.raises(Unauthorized):
        users.verify(sign({"sub": "alice", "exp": str(int(time.time()) + 60)}))
    assert users.verify(sign({"sub": "alice", "iat": int(time.time()) + 30})) == User("alice")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(payload=st.dictionaries(st.sampled_from(["exp", "nbf", "iat", "x"]), json_values))
def test_time_claims_accept_numbers_only_and_never_fail_otherwise(payload: dict[str, Any]) -> None:
    numeric = all(
        isinstance(payload[name], int | float) and not isinstance(payload[name], bool)
        for name in ("exp", "nbf", "iat")
        if name in payload
    )
    refusal = None
    try:
        check_time_claims(payload, 0, now=NOW)
    except ValueError as error:
        refusal = str(error)
    if refusal is None:
        assert numeric
    else:
        assert not numeric or any(
            words in refusal for words in ("expired", "not yet valid", "out of range")
        )


@given(
    mercure=json_values,
    namespaced=json_values,
    which=st.sampled_from(["mercure", "https://mercure.rocks/", "both", "none"]),
)
def test_mercure_claims_are_read_or_refused_never_crash(
    mercure: Any, namespaced: Any, which: str
) -> None:
    payload: dict[str, Any] = {}
    if which in ("mercure", "both"):
        payload["mercure"] = mercure
    if which in ("https://mercure.rocks/", "both"):
        payload["https://mercure.rocks/"] = namespaced
    try:
        claims = parse_claims(payload)
    except AuthorizationError:
        return
    for selectors in (claims.publish, claims.subscribe):
        assert selectors is None or all(isinstance(item, str) for item in selectors)
