"""The live page at ``/``: HTML for browsers, the data its script works from, its assets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from app import create_app, web
from app.auth import AuthSettings
from app.config import load_resources
from app.config.spec import (
    FieldSpec,
    MercureSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)
from app.hub.settings import HubSettings
from app.settings import Settings
from tests.publish.gateway import ROOT
from tests.ui.gateway import JSON_LD

BOOK = ResourceSpec(
    name="Book",
    route="/books",
    table="book",
    fields=(FieldSpec("title", "string"), FieldSpec("secret", "string", write_only=True)),
    mercure=MercureSpec(enabled=True),
)
REVIEW = ResourceSpec(
    name="Review",
    route="/reviews",
    table="review",
    fields=(FieldSpec("body", "text"),),
    relations=(RelationSpec("book", "Book"),),
    mercure=MercureSpec(enabled=True, private=True),
)
NOTE = ResourceSpec(name="Note", route="/notes", table="note", fields=(FieldSpec("text", "text"),))
HIDDEN = ResourceSpec(name="Hidden", route="/hidden", table="hidden", operations=("get",))
SPEC = ResourcesSpec(resources=(BOOK, REVIEW, NOTE, HIDDEN))


def embedded_config(html: str) -> dict[str, object]:
    match = re.search(r'<script id="live-config" type="application/json">(.*?)</script>', html)
    assert match is not None, "the page embeds its configuration"
    config: dict[str, object] = json.loads(match.group(1))
    return config


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (BOOK, {"columns": ["title"], "live": True, "private": False}),
        (REVIEW, {"columns": ["body", "book"], "live": True, "private": True}),
        (NOTE, {"columns": ["text"], "live": False, "private": False}),
    ],
)
def test_page_config_describes_each_listable_resource(
    resource: ResourceSpec, expected: dict[str, object]
) -> None:
    config = web.page_config(SPEC, "http://shop.example")
    entries = {entry["name"]: entry for entry in config["resources"]}
    entry = entries[resource.name]
    assert entry["route"] == resource.route
    assert entry["topic"] == f"http://shop.example{resource.route}/{{id}}"
    assert entry["pattern"] == f"http://shop.example{resource.route}/:id"
    assert {key: entry[key] for key in expected} == expected


def test_page_config_leaves_out_resources_without_a_collection() -> None:
    names = [entry["name"] for entry in web.page_config(SPEC, "http://x")["resources"]]
    assert names == ["Book", "Review", "Note"]


def test_index_answers_html_for_get_only_and_serves_its_assets() -> None:
    app = Flask(__name__)
    web.init_app(app, SPEC)
    client = app.test_client()

    page = client.get("/", base_url="http://shop.example")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert app.url_map.bind("x").match("/", "GET")[0] == web.ENDPOINT
    config = embedded_config(page.text)
    assert config["resources"][0]["topic"] == "http://shop.example/books/{id}"  # type: ignore[index]

    assert client.post("/").status_code == 405
    with client.get("/web/static/live.js") as script:
        assert script.status_code == 200
        assert "EventSource" in script.text
    with client.get("/web/static/live.css") as style:
        assert style.status_code == 200


def test_topics_use_the_public_url_when_one_is_configured(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", public_url="https://books.example/"
    )
    app = create_app(
        settings,
        spec=load_resources(ROOT / "resources.yaml"),
        hub_settings=HubSettings(),
        environ={},
    )
    client = app.test_client()

    html = client.get("/", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert html.mimetype == "text/html"
    topics = [entry["topic"] for entry in embedded_config(html.text)["resources"]]  # type: ignore[index]
    assert topics == ["https://books.example/books/{id}", "https://books.example/reviews/{id}"]

    entrypoint = client.get("/", headers={"Accept": JSON_LD["Accept"]})
    assert entrypoint.mimetype == "application/ld+json"


def gateway(tmp_path: Path, auth: AuthSettings, cookie_name: str = "mercureAuthorization") -> Flask:
    return create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}"),
        spec=load_resources(ROOT / "resources.yaml"),
        hub_settings=HubSettings(subscriber_key="k" * 32, cookie_name=cookie_name),
        auth_settings=auth,
        environ={},
    )


def test_the_page_offers_signing_in_when_users_are_authenticated(tmp_path: Path) -> None:
    client = gateway(tmp_path, AuthSettings(key="u" * 32)).test_client()
    html = client.get("/", headers={"Accept": "text/html"}).text
    assert embedded_config(html)["auth"] == {
        "enabled": True,
        "tokens": "/auth/mercure?protocol=1.0",
        "signOut": web.SIGN_OUT_PATH,
    }
    assert 'id="sign-in"' in html
    assert 'id="bearer-token" type="password"' in html
    assert 'id="sign-out"' in html


def test_the_page_has_no_sign_in_control_without_authentication(tmp_path: Path) -> None:
    client = gateway(tmp_path, AuthSettings()).test_client()
    html = client.get("/", headers={"Accept": "text/html"}).text
    assert embedded_config(html)["auth"] == {
        "enabled": False,
        "tokens": None,
        "signOut": web.SIGN_OUT_PATH,
    }
    assert 'id="sign-in"' not in html


def test_page_config_turns_signing_in_off_by_default() -> None:
    assert web.page_config(SPEC, "http://x")["auth"] == {
        "enabled": False,
        "tokens": None,
        "signOut": None,
    }


def test_sign_out_expires_the_hub_cookies_only(tmp_path: Path) -> None:
    client = gateway(tmp_path, AuthSettings(key="u" * 32), cookie_name="hubToken").test_client()
    response = client.post(web.SIGN_OUT_PATH)
    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"
    # The 0.x cookie, then the 1.0 one (Secure whatever the scheme: its name demands it).
    cookie, v1_cookie = response.headers.getlist("Set-Cookie")
    v1_attributes = [part.strip() for part in v1_cookie.split(";")]
    assert v1_attributes[0] == "__Secure-mercure_access_token="
    assert {"HttpOnly", "SameSite=Strict", "Secure", "Path=/.well-known/mercure"} <= set(
        v1_attributes
    )
    attributes = [part.strip() for part in cookie.split(";")]
    assert attributes[0] == "hubToken="
    assert "Path=/.well-known/mercure" in attributes
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in attributes
    assert {"HttpOnly", "SameSite=Strict"} <= set(attributes)
    assert "Secure" not in attributes
    secure = client.post(web.SIGN_OUT_PATH, base_url="https://shop.example")
    assert "Secure" in secure.headers.getlist("Set-Cookie")[0]
    assert client.get(web.SIGN_OUT_PATH).status_code == 405
