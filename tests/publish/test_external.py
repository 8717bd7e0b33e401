"""Publishing to an external hub: a second gateway's built-in hub, stopped and restarted.

The external hub is a real app instance on its own gevent server; the publishing gateway
reaches it over HTTP with a publisher JWT, through the outbox in its own database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import gevent
import httpx
import pytest
from flask import Flask

from app import hub as hub_package
from app.config.spec import ResourcesSpec
from app.hub.command import mint_access_token
from app.hub.matchers import URLPATTERN, Matcher
from app.hub.update import Update
from app.publish import EXTENSION_KEY
from app.publish.external import form
from app.publish.outbox import Outbox
from app.publish.settings import PublishSettings, PublishSettingsError
from tests.hub.sse_client import Subscription
from tests.publish.conftest import AUTHOR, BOOK, REVIEW, SHELF, make_library, with_mercure
from tests.publish.gateway import (
    ADMIN,
    HUB_SETTINGS,
    JSON_LD,
    JWT_KEY,
    MERGE_PATCH,
    Gateway,
    KillableServer,
    build_app,
    free_port,
    start_gateway,
    token,
)
from tests.publish.sse import DEADLINE, Subscriber
from tests.services import LiveServer

Serve = Callable[..., LiveServer]


@pytest.mark.parametrize(
    ("update", "fields"),
    [
        (
            Update(topics=("a", "b"), data="d", id="urn:x"),
            {"topic": ["a", "b"], "data": "d", "id": "urn:x"},
        ),
        (
            Update(topics=("a",), data="", private=True, id="i", type="t", retry=10),
            {"topic": ["a"], "data": "", "id": "i", "private": "on", "type": "t", "retry": "10"},
        ),
    ],
)
def test_form(update: Update, fields: dict[str, object]) -> None:
    assert form(update) == fields


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[KillableServer]:
    """The external hub: another gateway, built before the publishing one's variables,
    on a server the test can kill and restart."""
    server = KillableServer(build_app(tmp_path / "hub.sqlite"), free_port())
    server.start()
    yield server
    server.kill()
    server.app.extensions[EXTENSION_KEY].close()


@pytest.fixture
def external_env(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def configure(hub_url: str) -> None:
        monkeypatch.setenv("MERCURE_PUBLISH_URL", hub_url)
        monkeypatch.setenv("MERCURE_SUBSCRIBE_URL", "https://hub.example/.well-known/mercure")
        monkeypatch.setenv("MERCURE_JWT_TOKEN", token(publish=["*"]))
        monkeypatch.setenv("MERCURE_PUBLISH_RETRY_MIN_DELAY", "0.02")
        monkeypatch.setenv("MERCURE_PUBLISH_RETRY_MAX_DELAY", "0.2")

    return configure


def wait_for_outbox(outbox: Outbox, condition: Callable[[Outbox], bool], what: str) -> None:
    """Block until ``condition`` holds for the outbox (polling its rows)."""
    with gevent.Timeout(DEADLINE, AssertionError(f"the relay never {what}")):
        while not condition(outbox):
            gevent.sleep(0.02)


def wait_for_failed_attempt(outbox: Outbox) -> None:
    """Block until the relay has tried and failed to deliver the oldest queued update."""
    wait_for_outbox(
        outbox,
        lambda o: any(q.attempts for q in o.pending("default", limit=1)),
        "tried the hub",
    )


def wait_for_empty_outbox(outbox: Outbox) -> None:
    """Block until the hub has acknowledged every queued update."""
    wait_for_outbox(outbox, lambda o: not o.pending("default"), "emptied the outbox")


def patch_title(gw: Gateway, item: str, title: str) -> httpx.Response:
    response = httpx.patch(
        f"{gw.url}{item}", json={"title": title}, headers={**MERGE_PATCH, **ADMIN}
    )
    response.raise_for_status()
    return response


def post_book(gw: Gateway, isbn: str) -> httpx.Response:
    book = {"title": f"Book {isbn}", "author": "A", "isbn": isbn}
    response = httpx.post(f"{gw.url}/books", json=book, headers={**JSON_LD, **ADMIN})
    response.raise_for_status()
    return response


def test_every_update_arrives_once_across_a_hub_restart(
    serve: Serve,
    tmp_path: Path,
    hub: KillableServer,
    external_env: Callable[[str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub_url = f"{hub.url}/.well-known/mercure"
    external_env(hub_url)
    shop = start_gateway(serve, tmp_path / "shop.sqlite")
    outbox = shop.publisher.outbox
    subscriber = Subscriber(hub_url, [f"{shop.url}/books/{{id}}"], reconnect=True)
    try:
        assert shop.publisher.discovery_url_for("Book") == "https://hub.example/.well-known/mercure"
        links = httpx.get(f"{shop.url}/books").headers.get_list("Link", split_commas=True)
        assert links[-1] == '<https://hub.example/.well-known/mercure>; rel="mercure"'

        first = post_book(shop, "1")
        assert json.loads(subscriber.next().data) == first.json()
        wait_for_empty_outbox(outbox)  # acknowledged: the kill cannot lose its 200

        hub.kill()
        with caplog.at_level(logging.WARNING, "app.publish"):
            changed = patch_title(shop, "/books/1", "Changed while the hub was down")
            second = post_book(shop, "2")
            wait_for_failed_attempt(outbox)
        assert f"topics: {shop.url}/books/1" in caplog.text
        hub.start()

        update, create = subscriber.take(2)
        assert json.loads(update.data) == changed.json()
        assert json.loads(create.data) == second.json()
        sentinel = patch_title(shop, "/books/2", "After the restart")
        assert json.loads(subscriber.next().data) == sentinel.json()
        assert subscriber.pending() == []
        assert subscriber.connections >= 2
    finally:
        subscriber.close()
        shop.publisher.close()


def test_queued_updates_survive_a_restart_of_the_publishing_app(
    serve: Serve, tmp_path: Path, external_env: Callable[[str], None]
) -> None:
    hub_port = free_port()
    external_env(f"http://127.0.0.1:{hub_port}/.well-known/mercure")
    first_run = start_gateway(serve, tmp_path / "shop.sqlite")
    queued = post_book(first_run, "1")
    wait_for_failed_attempt(first_run.publisher.outbox)
    first_run.publisher.close()
    first_run.live.server.stop(timeout=0.1)
    topic = f"{first_run.url}/books/{{id}}"

    with pytest.MonkeyPatch.context() as clean:
        for name in ("MERCURE_PUBLISH_URL", "MERCURE_JWT_TOKEN"):
            clean.delenv(name)
        hub = start_gateway(serve, tmp_path / "hub.sqlite", port=hub_port)
    subscriber = Subscriber(hub.hub_url, [topic])
    second_run = start_gateway(serve, tmp_path / "shop.sqlite", port=first_run.live.port)
    try:
        delivered = subscriber.next()
        assert json.loads(delivered.data) == queued.json()
        sentinel = post_book(second_run, "2")
        assert json.loads(subscriber.next().data) == sentinel.json()
        assert subscriber.pending() == []
    finally:
        subscriber.close()
        second_run.publisher.close()
        hub.publisher.close()


def test_named_hubs_and_updates_a_hub_rejects(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hub = start_gateway(serve, tmp_path / "hub.sqlite")
    spec = ResourcesSpec(
        resources=(
            AUTHOR,
            # A type the hub reserves (resources.yaml refuses it; a hand-built spec does not).
            with_mercure(SHELF, hub="backup", type="mercure"),
            with_mercure(BOOK, hub="backup"),
            REVIEW,
        )
    )
    settings = PublishSettings.from_env(
        {
            "MERCURE_HUBS_BACKUP_PUBLISH_URL": hub.hub_url,
            "MERCURE_HUBS_BACKUP_JWT_TOKEN": token(publish=["*"]),
        },
        hub_names=["backup"],
    )
    lib = make_library(tmp_path / "lib", spec, publish_settings=settings)
    subscriber = Subscriber(hub.hub_url, ["*"])
    try:
        assert lib.publisher.discovery_url_for("Review") == "/.well-known/mercure"
        assert lib.publisher.discovery_url_for("Book") == hub.hub_url
        with lib.app.app_context(), caplog.at_level(logging.ERROR, "app.publish"):
            session = lib.db.session
            session.add(lib.model["Shelf"](label="Refused by the hub"))
            session.commit()
            book = lib.model["Book"](title="Through the backup hub")
            session.add(book)
            session.commit()
            session.add(lib.model["Review"](body="Default hub", book=book))
            session.commit()

            delivered = subscriber.next()
        assert json.loads(delivered.data)["title"] == "Through the backup hub"
        assert "rejected update" in caplog.text
        assert '"type" field cannot be "mercure"' in caplog.text
        assert [json.loads(u.data)["body"] for u in lib.published] == ["Default hub"]
    finally:
        subscriber.close()
        lib.publisher.close()
        hub.publisher.close()


def test_a_1_0_hub_receives_updates_from_the_gateway_as_a_1_0_publisher(
    serve: Serve, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}/.well-known/mercure"
    issuer = "https://shop.example"
    hub_app = Flask("external_1_0_hub")
    external = hub_package.init_app(
        hub_app,
        replace(HUB_SETTINGS, protocols=("1.0",), resource=hub_url, issuer=issuer),
    )
    serve(hub_app, port)
    spec = ResourcesSpec(
        resources=(
            AUTHOR,
            with_mercure(SHELF, hub="modern"),
            with_mercure(BOOK, hub="modern"),
            REVIEW,
        )
    )
    # Granted: the books only, so the hub refuses the shelves' updates (403).
    publisher_token = mint_access_token(
        JWT_KEY,
        "HS256",
        issuer=issuer,
        audience=hub_url,
        publish=[Matcher(URLPATTERN, "http://shop.test/books/:id")],
    )
    environ = {
        "MERCURE_HUBS_MODERN_PUBLISH_URL": hub_url,
        "MERCURE_HUBS_MODERN_JWT_TOKEN": publisher_token,
        "MERCURE_HUBS_MODERN_PROTOCOL_VERSION": "1.0",
    }
    settings = PublishSettings.from_env(environ, hub_names=["modern"])
    assert settings.hubs["modern"].protocol_version == "1.0"
    lib = make_library(tmp_path / "lib", spec, publish_settings=settings)
    with httpx.Client(timeout=10) as client:
        stream = Subscription(
            client, hub_url, [], query=[("match_urlpattern", "http://shop.test/:kind/:id")]
        )
        try:
            with lib.app.app_context(), caplog.at_level(logging.ERROR, "app.publish"):
                session = lib.db.session
                session.add(lib.model["Shelf"](label="Not granted"))
                session.commit()
                session.add(lib.model["Book"](title="Granted"))
                session.commit()
                delivered = stream.next_event()
            assert json.loads(delivered.data)["title"] == "Granted"
            assert "rejected update" in caplog.text
            assert "HTTP 403" in caplog.text
        finally:
            stream.close()
            lib.publisher.close()
            external.close()


@pytest.mark.parametrize(
    ("version", "token_kind"), [("1.0", "0.x"), ("0.x", "1.0"), ("2.0", "1.0")]
)
def test_a_token_that_does_not_fit_the_hubs_protocol_is_refused_at_start(
    version: str, token_kind: str
) -> None:
    jwt_token = (
        token(publish=["*"])
        if token_kind == "0.x"
        else mint_access_token(
            JWT_KEY, "HS256", issuer="i", audience="a", publish=[Matcher(URLPATTERN, "*")]
        )
    )
    with pytest.raises(PublishSettingsError, match="PROTOCOL_VERSION"):
        PublishSettings.from_env(
            {
                "MERCURE_PUBLISH_URL": "http://hub.internal/.well-known/mercure",
                "MERCURE_JWT_TOKEN": jwt_token,
                "MERCURE_PROTOCOL_VERSION": version,
            }
        )
