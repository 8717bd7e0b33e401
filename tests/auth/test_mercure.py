"""``GET /auth/mercure`` on the shipped bookshop served whole: who gets a subscriber token,
what it grants, its cookie, its expiry, and that the hub accepts it; and ``flask auth
token``, whose tokens the app accepts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from app.auth.settings import DEVELOPMENT_AUTH_KEY, AuthSettings
from app.hub.auth import Verifier
from app.hub.settings import DEFAULT_COOKIE_NAME
from tests.auth.conftest import HUB_KEY, ROOT, USER_KEY, Bookshop, Certificate, bookshop_app
from tests.hub.sse_client import Subscription
from tests.publish.sse import Subscriber

AUDIENCES = "/auth/mercure/audiences/reviews"
HUB_PATH = "/.well-known/mercure"
JSON_LD = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}


def cookie_of(response: httpx.Response, name: str = DEFAULT_COOKIE_NAME) -> dict[str, Any]:
    """The cookie ``name`` set by ``response``: value and attributes."""
    [header] = response.headers.get_list("set-cookie")
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    morsel = jar[name]
    attributes = {key: morsel[key] for key in morsel if morsel[key]}
    return {"value": morsel.value, "flags": header.lower(), **attributes}


def subscriber_token(bookshop: Bookshop, token: str, **headers: str) -> httpx.Response:
    return bookshop.http.get("/auth/mercure", headers={**bookshop.as_user(token), **headers})


# who


def test_anonymous_gets_401_problem(bookshop: Bookshop) -> None:
    response = bookshop.http.get("/auth/mercure")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["status"] == 401
    assert "bearer token" in response.json()["detail"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"sub": "alice"}, "some-other-key-of-at-least-32-bytes!!", algorithm="HS256"),
        jwt.encode({"sub": "alice", "exp": int(time.time()) - 3600}, USER_KEY, algorithm="HS256"),
    ],
)
def test_an_untrusted_token_gets_401_invalid_token(bookshop: Bookshop, token: str) -> None:
    response = subscriber_token(bookshop, token)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "set-cookie" not in response.headers


def test_a_non_bearer_header_gets_401_invalid_request(bookshop: Bookshop) -> None:
    response = bookshop.http.get("/auth/mercure", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


# what


@pytest.mark.parametrize(
    ("sub", "roles", "subscribe"),
    [
        ("alice", (), [f"{AUDIENCES}/author/%22alice%22"]),
        ("bob", ("reader",), [f"{AUDIENCES}/author/%22bob%22"]),
        ("root", ("admin",), [AUDIENCES]),
        ('o"neil/zoë', (), [f"{AUDIENCES}/author/%22o%5C%22neil%2Fzo%5Cu00eb%22"]),
    ],
)
def test_body_and_token_grant_the_audiences_of_the_read_rule(
    bookshop: Bookshop, sub: str, roles: tuple[str, ...], subscribe: list[str]
) -> None:
    response = subscriber_token(bookshop, bookshop.user_token(sub, *roles))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"token", "subscribe", "expiresAt", "protocol"}
    assert body["protocol"] == "0.x"
    assert body["subscribe"] == [f"{bookshop.url}{path}" for path in subscribe]

    claims = Verifier("HS256", HUB_KEY).verify(body["token"])
    assert list(claims.subscribe or ()) == body["subscribe"]
    assert claims.publish is None
    assert claims.payload == {"user": sub}
    expected = datetime.fromtimestamp(claims.expires_at or 0, UTC)
    assert body["expiresAt"] == expected.isoformat().replace("+00:00", "Z")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(body["token"], USER_KEY, algorithms=["HS256"])


def test_the_cookie_carries_the_token_for_the_hub_only(bookshop: Bookshop) -> None:
    response = subscriber_token(bookshop, bookshop.user_token("alice"))
    cookie = cookie_of(response)
    assert cookie["value"] == response.json()["token"]
    assert cookie["path"] == HUB_PATH
    assert cookie["samesite"] == "Strict"
    assert "; httponly" in cookie["flags"]
    assert "; secure" not in cookie["flags"]
    assert "domain" not in cookie
    expires = datetime.strptime(cookie["expires"], "%a, %d %b %Y %H:%M:%S GMT")
    token_exp = jwt.decode(cookie["value"], HUB_KEY, algorithms=["HS256"])["exp"]
    assert expires.replace(tzinfo=UTC).timestamp() == token_exp


def test_a_forwarded_proto_header_is_not_trusted_by_the_app(bookshop: Bookshop) -> None:
    # The in-process server is reached directly: X-Forwarded-Proto is the client's word.
    # (Behind nginx, gunicorn turns it into the request's scheme for trusted peers.)
    response = subscriber_token(
        bookshop, bookshop.user_token("alice"), **{"X-Forwarded-Proto": "https"}
    )
    assert "; secure" not in cookie_of(response)["flags"]
    assert response.json()["subscribe"][0].startswith("http://")


def test_the_cookie_is_secure_under_https(
    serve_tls: Callable[..., str], certificate: Certificate, tmp_path: Path
) -> None:
    origin = serve_tls(bookshop_app(tmp_path / "tls.db"))
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 600}, USER_KEY, "HS256")
    with httpx.Client(base_url=origin, verify=certificate.client_context(), timeout=10) as http:
        response = http.get("/auth/mercure", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    cookie = cookie_of(response)
    assert "; secure" in cookie["flags"]
    assert "; httponly" in cookie["flags"]
    assert (cookie["path"], cookie["samesite"]) == (HUB_PATH, "Strict")
    assert response.json()["subscribe"] == [f"{origin}{AUDIENCES}/author/%22alice%22"]


# when it expires


@pytest.mark.parametrize("lifetime", [60, 600, 3599])
def test_never_outlives_a_short_user_token(bookshop: Bookshop, lifetime: int) -> None:
    token = bookshop.user_token("alice", expires_in=lifetime)
    user_exp = jwt.decode(token, USER_KEY, algorithms=["HS256"])["exp"]
    body = subscriber_token(bookshop, token).json()
    assert jwt.decode(body["token"], HUB_KEY, algorithms=["HS256"])["exp"] == user_exp


def test_a_user_token_expired_within_the_leeway_gets_no_subscriber_token(
    bookshop: Bookshop,
) -> None:
    token = bookshop.user_token("alice", expires_in=-5)  # REST still accepts it (leeway)
    response = subscriber_token(bookshop, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("lifetime", [7200, None])
def test_lasts_at_most_the_configured_lifetime(bookshop: Bookshop, lifetime: int | None) -> None:
    before = int(time.time())
    token = bookshop.user_token("alice", expires_in=lifetime)
    body = subscriber_token(bookshop, token).json()
    after = int(time.time())
    exp = jwt.decode(body["token"], HUB_KEY, algorithms=["HS256"])["exp"]
    assert before + 3600 <= exp <= after + 3600
    if lifetime is not None:
        assert exp <= jwt.decode(token, USER_KEY, algorithms=["HS256"])["exp"]


def test_configured_lifetime(serve: Callable[..., Any], tmp_path: Path) -> None:
    app = bookshop_app(tmp_path / "short.db", AuthSettings(key=USER_KEY, mercure_token_lifetime=90))
    live = serve(app)
    token = jwt.encode({"sub": "alice", "exp": int(time.time()) + 3600}, USER_KEY, "HS256")
    before = int(time.time())
    response = httpx.get(f"{live.url}/auth/mercure", headers={"Authorization": f"Bearer {token}"})
    exp = jwt.decode(response.json()["token"], HUB_KEY, algorithms=["HS256"])["exp"]
    assert before + 90 <= exp <= int(time.time()) + 90


# the hub honours it


def test_the_hub_delivers_exactly_the_users_private_updates(bookshop: Bookshop) -> None:
    admin = bookshop.as_user(bookshop.user_token("root", "admin"))
    alice = bookshop.as_user(bookshop.user_token("alice"))
    bob = bookshop.as_user(bookshop.user_token("bob"))
    book = bookshop.http.post(
        "/books", json={"title": "Dune", "author": "Frank Herbert"}, headers={**JSON_LD, **admin}
    )
    assert book.status_code == 201, book.text
    grant = bookshop.http.get("/auth/mercure", headers=alice).json()
    topic = f"{bookshop.url}/reviews/{{id}}"

    def review(headers: dict[str, str], text: str) -> str:
        created = bookshop.http.post(
            "/reviews",
            json={"rating": 5, "body": text, "book": book.json()["@id"]},
            headers={**JSON_LD, **headers},
        )
        assert created.status_code == 201, created.text
        return str(created.json()["@id"])

    hub = f"{bookshop.url}{HUB_PATH}"
    with (
        Subscriber(hub, [topic], token=grant["token"]) as by_header,
        Subscriber(hub, [topic], cookie=grant["token"]) as by_cookie,
    ):
        review(bob, "bob's")
        mine = review(alice, "alice's")
        for subscriber in (by_header, by_cookie):
            event = subscriber.next()
            assert mine in event.data
            assert "bob's" not in event.data


# flask auth token


def test_flask_auth_token_with_the_development_key(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    app = bookshop_app(tmp_path / "dev.db", AuthSettings.from_env({}))
    result = app.test_cli_runner().invoke(
        args=["auth", "token", "--sub", "alice", "--role", "admin"]
    )
    assert result.exit_code == 0, result.output
    assert "warning: signed with the public development key" in result.stderr
    token = result.stdout.strip()
    claims = jwt.decode(token, DEVELOPMENT_AUTH_KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"]) == ("alice", ["admin"])
    assert claims["exp"] - claims["iat"] == 3600

    live = serve(app)
    with httpx.Client(base_url=live.url, timeout=10) as http:
        headers = {"Authorization": f"Bearer {token}"}
        created = http.post(
            "/books", json={"title": "Dune", "author": "F. H."}, headers={**JSON_LD, **headers}
        )
        assert created.status_code == 201, created.text
        grant = http.get("/auth/mercure", headers=headers).json()
        assert grant["subscribe"] == [f"{live.url}{AUDIENCES}"]


def test_flask_auth_token_with_a_configured_key(bookshop: Bookshop) -> None:
    result = bookshop.app.test_cli_runner().invoke(
        args=["auth", "token", "--sub", "bob", "--exp", "30m"]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    token = result.stdout.strip()
    claims = jwt.decode(token, USER_KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"], claims["exp"] - claims["iat"]) == ("bob", [], 1800)
    reviews = bookshop.http.get("/reviews", headers=bookshop.as_user(token))
    assert reviews.status_code == 200
    assert bookshop.http.get("/reviews").status_code == 401


def test_flask_auth_token_in_a_subprocess(tmp_path: Path) -> None:
    environ = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AUTH_", "MERCURE_", "GATEWAY_", "FLASK_", "DATABASE_"))
    }
    environ.update(
        FLASK_APP="app:create_app",
        RESOURCES_FILE=str(ROOT / "resources.yaml"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "auth", "token", "--sub", "alice", "--role", "admin"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "warning: signed with the public development key" in done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    claims = jwt.decode(lines[0], DEVELOPMENT_AUTH_KEY, algorithms=["HS256"])
    assert (claims["sub"], claims["roles"]) == ("alice", ["admin"])


# Mercure 1.0


def test_a_1_0_token_grants_the_same_audiences(bookshop: Bookshop) -> None:
    token = bookshop.user_token("alice")
    response = bookshop.http.get("/auth/mercure?protocol=1.0", headers=bookshop.as_user(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["protocol"] == "1.0"
    assert body["subscribe"] == [f"{bookshop.url}{AUDIENCES}/author/%22alice%22"]
    hub = bookshop.app.extensions["mercure_hub"]
    grants = hub.access_tokens.verify(body["token"], "subscriber")
    assert [m.value for m in grants.subscribe_matchers] == body["subscribe"]
    assert {m.type for m in grants.subscribe_matchers} == {"exact"}
    assert grants.subject == "alice"
    assert jwt.get_unverified_header(body["token"])["typ"] == "at+jwt"
    cookie = cookie_of(response, "__Secure-mercure_access_token")
    assert cookie["value"] == body["token"]
    assert "secure" in cookie["flags"]
    wrong = bookshop.http.get("/auth/mercure?protocol=2", headers=bookshop.as_user(token))
    assert wrong.status_code == 400


def test_a_1_0_subscriber_receives_exactly_the_users_private_updates(bookshop: Bookshop) -> None:
    admin = bookshop.as_user(bookshop.user_token("root", "admin"))
    alice = bookshop.as_user(bookshop.user_token("alice"))
    bob = bookshop.as_user(bookshop.user_token("bob"))
    book = bookshop.http.post(
        "/books", json={"title": "Dune", "author": "Frank Herbert"}, headers={**JSON_LD, **admin}
    )
    grant = bookshop.http.get("/auth/mercure?protocol=1.0", headers=alice).json()
    reviews = ("match_urlpattern", f"{bookshop.url}/reviews/:id")
    hub = f"{bookshop.url}{HUB_PATH}"
    with (
        Subscription(bookshop.http, hub, [], query=[reviews], headers=alice_bearer(grant)) as one,
        Subscription(
            bookshop.http,
            hub,
            [],
            query=[reviews],
            cookies={"__Secure-mercure_access_token": grant["token"]},
        ) as two,
    ):
        for headers, text in ((bob, "bob's"), (alice, "alice's")):
            created = bookshop.http.post(
                "/reviews",
                json={"rating": 5, "body": text, "book": book.json()["@id"]},
                headers={**JSON_LD, **headers},
            )
            assert created.status_code == 201, created.text
        for stream in (one, two):
            data = stream.next_event().data
            assert "alice's" in data
            assert "bob's" not in data


def alice_bearer(grant: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {grant['token']}"}
