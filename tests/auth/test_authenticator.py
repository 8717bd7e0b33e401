"""Bearer tokens verified against a configured key and against an identity provider's key
set served over HTTP: what is accepted, key rotation, and every token that must be refused
with 401 (or 503 when the key set cannot be fetched)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from flask import Flask

from app import errors
from app.access.user import User
from app.auth import Auth
from app.auth.authenticator import Authenticator
from app.auth.command import mint_user_token
from app.auth.settings import JWKS_ALGORITHMS, AuthSettings, AuthSettingsError
from app.errors import ServiceUnavailable, Unauthorized
from tests.auth.conftest import KeyPair, KeySet, claims, rsa_pair
from tests.services import LiveServer, free_port

SECRET = "authenticator-tests-hmac-key-of-32-bytes!"
ISSUER = "https://idp.example/realms/shop"
AUDIENCE = "bookshop"


def provider(key_set: KeySet, **options: Any) -> Authenticator:
    """An authenticator trusting ``key_set``."""
    return Authenticator(AuthSettings(jwks_url=key_set.url, algorithms=JWKS_ALGORITHMS, **options))


def bearer(token: str) -> str:
    return f"Bearer {token}"


def refused(call: Callable[[], object], error: str = "invalid_token") -> Unauthorized:
    """``call`` raises a 401 whose challenge carries ``error``."""
    with pytest.raises(Unauthorized) as caught:
        call()
    assert caught.value.status == 401
    challenge = caught.value.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="api"')
    assert f'error="{error}"' in challenge
    return caught.value


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload).encode())
    return f"{head}.{body}.{b64(signature)}"


def hs256_with(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A token signed by hand with HMAC-SHA256 (PyJWT refuses a PEM as an HMAC key)."""
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", **header}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(mac)}"


# accepted


@pytest.mark.parametrize("which", ["rsa_key", "ec_key"])
def test_tokens_signed_by_a_key_of_the_set_are_accepted(
    which: str, key_set: KeySet, request: pytest.FixtureRequest
) -> None:
    key: KeyPair = request.getfixturevalue(which)
    key_set.publish([key])
    token = key.sign(claims("alice", roles=["admin", "reader"]))
    user = provider(key_set).authenticate(bearer(token))
    assert user is not None
    assert (user.id, user.roles) == ("alice", ("admin", "reader"))
    assert user.expires_at == jwt.decode(token, options={"verify_signature": False})["exp"]


def test_an_rsa_and_an_ec_key_side_by_side(
    key_set: KeySet, rsa_key: KeyPair, ec_key: KeyPair
) -> None:
    key_set.publish([rsa_key, ec_key])
    users = provider(key_set)
    assert users.verify(rsa_key.sign(claims("a"))).id == "a"
    assert users.verify(ec_key.sign(claims("b"))).id == "b"
    assert key_set.fetches == 1


def test_the_key_set_is_fetched_once_for_known_keys(key_set: KeySet, rsa_key: KeyPair) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set)
    for _ in range(3):
        users.verify(rsa_key.sign(claims()))
    assert key_set.fetches == 1


def test_no_header_is_anonymous(key_set: KeySet) -> None:
    assert provider(key_set).authenticate(None) is None
    assert key_set.fetches == 0


def test_without_configuration_every_request_is_anonymous(rsa_key: KeyPair) -> None:
    users = Authenticator(AuthSettings())
    assert not users.enabled
    assert users.authenticate(bearer(rsa_key.sign(claims()))) is None
    assert users.authenticate("Basic YTpi") is None


def test_configured_public_key(rsa_key: KeyPair) -> None:
    users = Authenticator(AuthSettings(key=rsa_key.public_pem, algorithms=("RS256",)))
    assert users.verify(rsa_key.sign(claims("carol"))) == User(
        "carol", (), users.verify(rsa_key.sign(claims("carol"))).expires_at
    )


def test_configured_hmac_key_and_lowercase_scheme() -> None:
    users = Authenticator(AuthSettings(key=SECRET))
    token = mint_user_token(SECRET, "HS256", "dave", ("editor",), expires_in=60)
    user = users.authenticate(f"bearer  {token} ")
    assert user is not None
    assert (user.id, user.roles) == ("dave", ("editor",))
    assert user.expires_at is not None


def test_a_token_without_exp_has_no_expiry() -> None:
    users = Authenticator(AuthSettings(key=SECRET))
    assert users.verify(jwt.encode({"sub": "eve"}, SECRET, algorithm="HS256")).expires_at is None


def test_issuer_and_audience_when_configured(key_set: KeySet, rsa_key: KeyPair) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set, issuer=ISSUER, audience=AUDIENCE)
    token = rsa_key.sign(claims("alice", iss=ISSUER, aud=[AUDIENCE, "other"]))
    assert users.verify(token).id == "alice"


@pytest.mark.parametrize(
    ("path", "payload", "roles"),
    [
        ("roles", {"roles": ["admin"]}, ("admin",)),
        ("roles", {"roles": "admin  reader"}, ("admin", "reader")),
        ("roles", {"roles": ["admin", 3, None, {"x": 1}]}, ("admin",)),
        ("roles", {"roles": {"admin": True}}, ()),
        ("roles", {}, ()),
        (
            "realm_access.roles",
            {"realm_access": {"roles": ["admin", "reader"]}},
            ("admin", "reader"),
        ),
        ("realm_access.roles", {"realm_access": ["admin"]}, ()),
        ("realm_access.roles", {"roles": ["admin"]}, ()),
        ("a.b.c", {"a": {"b": {"c": "x y"}}}, ("x", "y")),
    ],
)
def test_roles_claim_at_a_dotted_path(
    path: str, payload: dict[str, Any], roles: tuple[str, ...]
) -> None:
    users = Authenticator(AuthSettings(key=SECRET, roles_claim=path))
    token = jwt.encode({"sub": "alice", **payload}, SECRET, algorithm="HS256")
    assert users.verify(token).roles == roles


def test_minted_tokens_carry_roles_at_the_dotted_path() -> None:
    token = mint_user_token(
        SECRET, "HS256", "alice", ("admin",), roles_claim="realm_access.roles", expires_in=60
    )
    users = Authenticator(AuthSettings(key=SECRET, roles_claim="realm_access.roles"))
    assert users.verify(token).roles == ("admin",)


# key rotation


def test_a_new_kid_fetches_the_key_set_again(
    key_set: KeySet, rsa_key: KeyPair, rotated_rsa_key: KeyPair
) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set, jwks_cooldown=0)
    assert users.verify(rsa_key.sign(claims("before"))).id == "before"
    key_set.publish([rotated_rsa_key])
    assert users.verify(rotated_rsa_key.sign(claims("after"))).id == "after"
    assert key_set.fetches == 2
    # a token of the retired key not verified before is refused once the set without the
    # key has been fetched (one verified before is remembered for at most VERIFIED_TTL)
    refused(lambda: users.verify(rsa_key.sign(claims("retired"))))
    assert key_set.fetches == 3


def test_unknown_kids_refetch_at_most_once_per_cooldown(key_set: KeySet, rsa_key: KeyPair) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set, jwks_cooldown=3600)
    users.verify(rsa_key.sign(claims()))
    for number in range(5):
        stranger = rsa_pair(f"forged-{number}")
        refused(lambda stranger=stranger: users.verify(stranger.sign(claims())))
    assert key_set.fetches == 1


# refused


def test_refusals_from_the_key_set(key_set: KeySet, rsa_key: KeyPair, ec_key: KeyPair) -> None:
    key_set.publish([rsa_key, ec_key])
    users = provider(key_set, issuer=ISSUER, audience=AUDIENCE, leeway=30)
    good = {"iss": ISSUER, "aud": AUDIENCE}
    impostor = KeyPair(rsa_key.kid, "RS256", rsa_pair("x").private)
    cases = {
        "expired": rsa_key.sign(claims(**good, lifetime=-120)),
        "not yet valid": rsa_key.sign(claims(**good, nbf=int(time.time()) + 3600)),
        "wrong issuer": rsa_key.sign(claims(iss="https://evil.example/", aud=AUDIENCE)),
        "no issuer": rsa_key.sign(claims(aud=AUDIENCE)),
        "wrong audience": rsa_key.sign(claims(iss=ISSUER, aud="another-api")),
        "no audience": rsa_key.sign(claims(iss=ISSUER)),
        "forged signature": impostor.sign(claims(**good)),
        "tampered payload": _tampered(rsa_key.sign(claims("bob", **good)), sub="root"),
        "alg none": unsigned({"alg": "none", "kid": rsa_key.kid}, claims(**good)),
        "alg none, no kid": unsigned({"alg": "none"}, claims(**good)),
        "HS256 with the public PEM": hs256_with(
            rsa_key.public_pem.encode(), {"kid": rsa_key.kid}, claims(**good)
        ),
        "HS256 with the JWK": hs256_with(
            json.dumps(rsa_key.jwk).encode(), {"kid": rsa_key.kid}, claims(**good)
        ),
        "ES256 header on an RSA kid": _relabelled(ec_key.sign(claims(**good)), rsa_key.kid),
        "missing sub": rsa_key.sign({k: v for k, v in claims(**good).items() if k != "sub"}),
        "empty sub": rsa_key.sign(claims("", **good)),
        "numeric sub": rsa_key.sign(claims(42, **good)),
        "unknown kid": rsa_pair("rsa-unknown").sign(claims(**good)),
        "not a JWT": "not-a-jwt",
        "two parts": "abc.def",
    }
    for name, token in cases.items():
        error = refused(lambda token=token: users.authenticate(bearer(token)))
        assert error.detail.startswith("Invalid token"), name
        assert "\n" not in error.headers["WWW-Authenticate"], name
    assert users.verify(rsa_key.sign(claims(**good))).id == "alice"


def test_refusals_with_a_configured_public_key(rsa_key: KeyPair) -> None:
    users = Authenticator(AuthSettings(key=rsa_key.public_pem, algorithms=("RS256",)))
    for token in (
        hs256_with(rsa_key.public_pem.encode(), {}, claims()),
        hs256_with(rsa_key.public_pem.strip().encode(), {}, claims()),
        unsigned({"alg": "none"}, claims()),
        unsigned({"alg": "RS256"}, claims()),
        rsa_pair("other").sign(claims()),
        rsa_key.sign(claims(lifetime=-3600)),
    ):
        refused(lambda token=token: users.verify(token))


def test_refusals_with_a_configured_hmac_key() -> None:
    users = Authenticator(AuthSettings(key=SECRET, leeway=0))
    for token in (
        jwt.encode(claims(), "another-secret-key-of-at-least-32-bytes", algorithm="HS256"),
        jwt.encode(claims(), SECRET * 2, algorithm="HS512"),
        unsigned({"alg": "none"}, claims()),
        jwt.encode(claims(lifetime=-5), SECRET, algorithm="HS256"),
        jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
    ):
        refused(lambda token=token: users.verify(token))


@pytest.mark.parametrize("subject", ["a\x00b", "line\nbreak", "\ud800", "\x7f"])
def test_a_user_id_with_control_characters_is_refused(subject: str) -> None:
    users = Authenticator(AuthSettings(key=SECRET))
    token = hs256_with(SECRET.encode(), {"alg": "HS256", "typ": "JWT"}, {"sub": subject})
    refused(lambda: users.verify(token))


def test_leeway_admits_small_clock_skew() -> None:
    token = jwt.encode(claims(lifetime=-5), SECRET, algorithm="HS256")
    assert Authenticator(AuthSettings(key=SECRET, leeway=30)).verify(token).id == "alice"
    refused(lambda: Authenticator(AuthSettings(key=SECRET, leeway=0)).verify(token))


@pytest.mark.parametrize(
    "header",
    ["Basic YWxpY2U6cHc=", "Bearer", "Bearer ", "Bearer    ", "Token abc", "abc", "", "Bearer:x"],
)
def test_headers_other_than_bearer_are_refused(header: str) -> None:
    users = Authenticator(AuthSettings(key=SECRET))
    error = refused(lambda: users.authenticate(header), "invalid_request")
    assert "Bearer <JWT>" in error.detail


HOSTILE_KIDS = ["a\r\nSet-Cookie: session=x", "zo\u00eb", "\U0001f600", 'q"uote\\', "x" * 5000]


def test_a_hostile_kid_cannot_break_the_challenge(key_set: KeySet, rsa_key: KeyPair) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set, jwks_cooldown=0)
    for kid in HOSTILE_KIDS:
        token = unsigned({"alg": "RS256", "kid": kid}, claims(), b"x" * 256)
        challenge = refused(lambda token=token: users.verify(token)).headers["WWW-Authenticate"]
        description = challenge.split('error_description="', 1)[1].removesuffix('"')
        assert all(" " <= c <= "~" and c not in '"\\' for c in description), kid
        assert len(description) <= 200


def test_a_hostile_kid_is_answered_401_over_http(
    key_set: KeySet, rsa_key: KeyPair, serve: Callable[..., LiveServer]
) -> None:
    key_set.publish([rsa_key])
    auth = Auth(provider(key_set, jwks_cooldown=0))
    app = Flask("hostile-kid")
    errors.init_app(app)

    @app.get("/whoami")
    def whoami() -> dict[str, object]:
        user = auth.current_user()
        return {"id": None if user is None else user.id}

    live = serve(app)
    with httpx.Client(base_url=live.url, timeout=10) as http:
        assert http.get("/whoami").json() == {"id": None}
        good = http.get("/whoami", headers={"Authorization": bearer(rsa_key.sign(claims()))})
        assert good.json() == {"id": "alice"}
        for kid in HOSTILE_KIDS:
            token = unsigned({"alg": "RS256", "kid": kid}, claims(), b"x" * 256)
            answer = http.get("/whoami", headers={"Authorization": bearer(token)})
            assert answer.status_code == 401, kid
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
            assert "set-cookie" not in answer.headers


def test_an_unreachable_key_set_is_a_503(rsa_key: KeyPair) -> None:
    url = f"http://127.0.0.1:{free_port()}/jwks.json"
    users = Authenticator(AuthSettings(jwks_url=url, algorithms=JWKS_ALGORITHMS))
    with pytest.raises(ServiceUnavailable) as caught:
        users.authenticate(bearer(rsa_key.sign(claims())))
    assert caught.value.status == 503
    assert "key set cannot be fetched" in caught.value.detail


@pytest.mark.parametrize(
    ("status", "body"),
    [
        ("200 OK", b"<html>maintenance</html>"),
        ("200 OK", b"[]"),
        ("200 OK", b'{"keys": []}'),
        ("200 OK", b'{"keys": [{"kty": "XX", "kid": "a"}]}'),
        ("200 OK", b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "use": "enc"}]}'),
        ("503 Service Unavailable", b"{}"),
    ],
)
def test_a_provider_answering_no_usable_key_set_is_a_503(
    serve: Callable[..., LiveServer], rsa_key: KeyPair, status: str, body: bytes
) -> None:
    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        start_response(status, [("Content-Type", "application/json")])
        return [body]

    users = Authenticator(
        AuthSettings(jwks_url=f"{serve(broken).url}/jwks", algorithms=JWKS_ALGORITHMS)
    )
    with pytest.raises(ServiceUnavailable) as caught:
        users.verify(rsa_key.sign(claims()))
    assert caught.value.status == 503
    assert caught.value.detail.startswith("The identity provider's key set cannot be")


def test_a_refetch_answering_garbage_is_a_503(key_set: KeySet, rsa_key: KeyPair) -> None:
    key_set.publish([rsa_key])
    users = provider(key_set, jwks_cooldown=0)
    users.verify(rsa_key.sign(claims()))
    key_set.garbage = True
    with pytest.raises(ServiceUnavailable):
        users.verify(rsa_pair("new").sign(claims()))


def test_an_unusable_configured_key_is_refused_at_construction() -> None:
    with pytest.raises(AuthSettingsError, match="AUTH_JWT_KEY cannot be used with RS256"):
        Authenticator(AuthSettings(key="not a pem", algorithms=("RS256",)))


def _tampered(token: str, **changes: Any) -> str:
    head, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return f"{head}.{b64(json.dumps({**payload, **changes}).encode())}.{signature}"


def _relabelled(token: str, kid: str) -> str:
    head, body, signature = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return f"{b64(json.dumps({**header, 'kid': kid}).encode())}.{body}.{signature}"
