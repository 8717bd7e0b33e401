"""End to end: REST calls and model changes on a live gateway reach real SSE subscribers
of the built-in hub, as API Platform publishes them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from app.config import load_resources
from app.config.errors import ConfigError
from app.config.spec import MercureSpec
from app.publish.settings import PublishSettingsError
from tests.publish.gateway import (
    ADMIN,
    JSON_LD,
    MERGE_PATCH,
    Gateway,
    as_user,
    bookshop,
    build_app,
    start_gateway,
    token,
)
from tests.publish.sse import Subscriber
from tests.services import LiveServer

BOOK = {"title": "Dune", "author": "Frank Herbert", "isbn": "9780441013593"}
AS_ADMIN = {**JSON_LD, **ADMIN}


@pytest.fixture
def gateway(serve: Callable[..., LiveServer], tmp_path: Path) -> Iterator[Gateway]:
    gw = start_gateway(serve, tmp_path / "shop.sqlite")
    yield gw
    gw.publisher.close()


def books_template(gw: Gateway) -> str:
    return f"{gw.url}/books/{{id}}"


def test_book_create_update_delete_reach_a_uri_template_subscriber(gateway: Gateway) -> None:
    with Subscriber(gateway.hub_url, [books_template(gateway)]) as subscriber:
        created = httpx.post(f"{gateway.url}/books", json=BOOK, headers=AS_ADMIN)
        assert created.status_code == 201
        patched = httpx.patch(
            f"{gateway.url}/books/1",
            json={"title": "Dune Messiah"},
            headers={**MERGE_PATCH, **ADMIN},
        )
        assert patched.status_code == 200
        assert httpx.delete(f"{gateway.url}/books/1", headers=ADMIN).status_code == 204

        create, update, delete = subscriber.take(3)

    assert json.loads(create.data) == created.json()
    assert json.loads(update.data) == patched.json()
    assert json.loads(delete.data) == {"@id": "/books/1"}
    assert created.json()["@context"] == "/contexts/Book"
    assert len({create.id, update.id, delete.id}) == 3
    assert all(e.id.startswith("urn:uuid:") for e in (create, update, delete))


def add_review(gw: Gateway, body: str, author: str) -> httpx.Response:
    review = {"rating": 5, "body": body, "author": author, "book": "/books/1"}
    response = httpx.post(f"{gw.url}/reviews", json=review, headers={**JSON_LD, **as_user(author)})
    assert response.status_code == 201, response.text
    return response


def subscriber_token(gw: Gateway, user: dict[str, str]) -> httpx.Response:
    """``GET /auth/mercure`` as ``user``: its subscriber token, in the body and the cookie."""
    response = httpx.get(f"{gw.url}/auth/mercure", headers=user)
    assert response.status_code == 200, response.text
    assert response.cookies["mercureAuthorization"] == response.json()["token"]
    return response


def test_private_reviews_reach_only_subscribers_allowed_to_see_them(gateway: Gateway) -> None:
    """A review is private: its update reaches its author and the administrators (who may
    ``GET`` it), with the subscriber token ``/auth/mercure`` gives them, sent as a bearer
    token or as the cookie it sets; not another user, an anonymous subscriber, or a token
    whose selectors do not cover the review."""
    url = gateway.url
    selectors = [f"{url}/reviews/{{id}}", f"{url}/books/{{id}}"]
    httpx.post(f"{url}/books", json=BOOK, headers=AS_ADMIN).raise_for_status()
    author_token = subscriber_token(gateway, as_user("Ann")).json()["token"]
    admin_cookie = subscriber_token(gateway, ADMIN).cookies["mercureAuthorization"]
    other_token = subscriber_token(gateway, as_user("Bob")).json()["token"]
    author = Subscriber(gateway.hub_url, selectors, token=author_token)
    admin = Subscriber(gateway.hub_url, selectors, cookie=admin_cookie)
    other_user = Subscriber(gateway.hub_url, selectors, token=other_token)
    anonymous = Subscriber(gateway.hub_url, selectors)
    wrong_scope = Subscriber(gateway.hub_url, selectors, token=token(subscribe=selectors[1:]))
    subscribers = (author, admin, other_user, anonymous, wrong_scope)
    try:
        review = add_review(gateway, "Great", "Ann")
        # A public change after the private one: once it has arrived, the private update
        # would have arrived before it (the hub keeps the publication order).
        httpx.patch(
            f"{url}/books/1", json={"title": "Dune (sentinel)"}, headers={**MERGE_PATCH, **ADMIN}
        ).raise_for_status()

        for subscriber in (author, admin):
            private, sentinel = subscriber.take(2)
            assert json.loads(private.data) == review.json()
            assert json.loads(sentinel.data)["title"] == "Dune (sentinel)"
        for subscriber in (other_user, anonymous, wrong_scope):
            assert json.loads(subscriber.next().data)["title"] == "Dune (sentinel)"
            assert subscriber.pending() == []
    finally:
        for subscriber in subscribers:
            subscriber.close()


def test_topics_that_follow_a_relation_expand_as_written(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """A REST write is one statement, with no model instance: a topic template through a
    relation (``{book.id}``) still expands for the row as written, before and after the
    relation changes."""
    spec = bookshop()
    review = spec.resource("Review")
    topics = ("/books/{book.id}/reviews/{id}",)
    moved = replace(review, mercure=MercureSpec(enabled=True, topics=topics))
    spec = replace(spec, resources=tuple(moved if r is review else r for r in spec.resources))
    gw = start_gateway(serve, tmp_path / "shop.sqlite", spec=spec)
    try:
        for isbn in ("1", "2"):
            httpx.post(f"{gw.url}/books", json={**BOOK, "isbn": isbn}, headers=AS_ADMIN)
        admin = subscriber_token(gw, ADMIN).json()["token"]  # reviews are not public
        first = Subscriber(gw.hub_url, ["/books/1/reviews/{id}"], token=admin)
        second = Subscriber(gw.hub_url, ["/books/2/reviews/{id}"], token=admin)
        with first, second:
            created = add_review(gw, "Moving", "Ann")
            patched = httpx.patch(
                f"{gw.url}/reviews/1",
                json={"book": "/books/2"},
                headers={**MERGE_PATCH, **as_user("Ann")},
            )
            assert patched.status_code == 200, patched.text
            assert json.loads(first.next().data) == created.json()
            assert json.loads(second.next().data) == patched.json()
            assert patched.json()["book"] == "/books/2"
            assert first.pending() == []
            assert second.pending() == []
    finally:
        gw.publisher.close()


TALLIES = """
resources:
  Tally:
    fields:
      t: {type: integer, nullable: true}
      count: {type: integer, nullable: true}
      secret: {type: string, nullable: true, write_only: true}
    mercure: true
    security:
      rule: "object.t == 1"
      operations: {get_collection: public, post: public, put: public, patch: public}
"""


def test_fields_named_as_a_rows_own_attributes_read_as_fields(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """``Row`` has attributes of its own (``t``, ``count``): fields of those names are
    read as the fields, by the rules, the no-change check and the published update."""
    (tmp_path / "resources.yaml").write_text(TALLIES)
    gw = start_gateway(
        serve, tmp_path / "t.sqlite", spec=load_resources(tmp_path / "resources.yaml")
    )
    try:
        every = token(subscribe=["*"])  # the rule makes the updates private
        with Subscriber(gw.hub_url, [f"{gw.url}/tallies/{{id}}"], token=every) as subscriber:
            created = httpx.post(
                f"{gw.url}/tallies", json={"t": 1, "count": 3, "secret": "s"}, headers=JSON_LD
            )
            assert created.status_code == 201, created.text
            same = httpx.patch(f"{gw.url}/tallies/1", json={"t": 1}, headers=MERGE_PATCH)
            assert same.status_code == 200
            other = httpx.post(f"{gw.url}/tallies", json={"t": 2}, headers=JSON_LD)

            create, sentinel = subscriber.take(2)
            assert json.loads(create.data) == created.json()
            assert json.loads(create.data)["t"] == 1
            assert "secret" not in create.data
            assert json.loads(sentinel.data) == other.json()
        assert httpx.get(f"{gw.url}/tallies/1", headers=JSON_LD).status_code == 200
        assert httpx.get(f"{gw.url}/tallies/2", headers=JSON_LD).status_code == 401
    finally:
        gw.publisher.close()


NOTES = """
resources:
  Note:
    fields:
      kind: {type: string}
      slug: {type: string}
    mercure:
      private: true
      topics: ['/.well-known/{kind}/subscriptions/notes/{id}', '/notes/{+slug}']
    security:
      rule: public
"""


def test_no_item_publishes_in_the_hubs_namespace(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """A value expanded into a topic template cannot put an item's update among the hub's
    subscription events: the write is refused (422) and nothing is saved or published."""
    (tmp_path / "resources.yaml").write_text(NOTES)
    gw = start_gateway(
        serve, tmp_path / "n.sqlite", spec=load_resources(tmp_path / "resources.yaml")
    )
    try:
        watcher = token(subscribe=["*"])
        with Subscriber(gw.hub_url, ["*"], token=watcher) as subscriber:
            for forged in (
                {"kind": "mercure", "slug": "a"},
                {"kind": "note", "slug": "../.well-known/mercure/subscriptions/x"},
                {"kind": "note", "slug": "%2e%2e/.well-known/mercure/subscriptions/x"},
            ):
                refused = httpx.post(f"{gw.url}/notes", json=forged, headers=JSON_LD)
                assert refused.status_code == 422, refused.text
                assert "reserved namespace /.well-known/mercure" in refused.json()["detail"]
            created = httpx.post(
                f"{gw.url}/notes", json={"kind": "note", "slug": "b"}, headers=JSON_LD
            )
            assert created.status_code == 201, created.text
            changed = httpx.patch(
                f"{gw.url}/notes/1", json={"kind": "mercure"}, headers=MERGE_PATCH
            )
            assert changed.status_code == 422

            (published,) = subscriber.take(1)
            assert json.loads(published.data) == created.json()
        listed = httpx.get(f"{gw.url}/notes", headers=JSON_LD).json()
        assert [note["kind"] for note in listed["member"]] == ["note"]
        assert gw.publisher.outbox.pending("default") == []
    finally:
        gw.publisher.close()


def test_a_resources_file_publishing_in_the_hubs_namespace_does_not_start(
    tmp_path: Path,
) -> None:
    (tmp_path / "resources.yaml").write_text(
        NOTES.replace("/.well-known/{kind}/subscriptions/", "/.well-known/./mercure/")
    )
    with pytest.raises(ConfigError, match=r"topics\[0\]: topic .* reserved namespace"):
        build_app(tmp_path / "n.sqlite", spec=load_resources(tmp_path / "resources.yaml"))


def test_a_change_that_changes_nothing_sends_nothing(gateway: Gateway) -> None:
    """As a flush would: a ``PATCH`` or ``PUT`` that leaves every column as stored writes
    nothing and publishes nothing, and answers with the item."""
    with Subscriber(gateway.hub_url, [books_template(gateway)]) as subscriber:
        created = httpx.post(f"{gateway.url}/books", json=BOOK, headers=AS_ADMIN).json()
        same = httpx.patch(
            f"{gateway.url}/books/1",
            json={"title": BOOK["title"]},
            headers={**MERGE_PATCH, **ADMIN},
        )
        assert same.status_code == 200
        assert same.json() == created
        replaced = httpx.put(f"{gateway.url}/books/1", json=BOOK, headers=AS_ADMIN)
        assert replaced.json() == created
        sentinel = httpx.post(f"{gateway.url}/books", json={**BOOK, "isbn": "2"}, headers=AS_ADMIN)

        first, second = subscriber.take(2)
        assert json.loads(first.data) == created
        assert json.loads(second.data) == sentinel.json()
        assert subscriber.pending() == []


def test_a_rollback_sends_nothing(gateway: Gateway) -> None:
    with Subscriber(gateway.hub_url, [books_template(gateway)]) as subscriber:
        httpx.post(f"{gateway.url}/books", json=BOOK, headers=AS_ADMIN).raise_for_status()
        duplicate = httpx.post(f"{gateway.url}/books", json=BOOK, headers=AS_ADMIN)
        assert duplicate.status_code in (409, 422)
        with gateway.app.app_context():
            session = gateway.db.session
            session.add(gateway.model("Book")(title="Rolled back", author="Nobody"))
            session.flush()
            session.rollback()
        sentinel = httpx.post(f"{gateway.url}/books", json={**BOOK, "isbn": "2"}, headers=AS_ADMIN)

        first, second = subscriber.take(2)
        assert json.loads(first.data)["@id"] == "/books/1"
        assert json.loads(second.data) == sentinel.json()
        assert subscriber.pending() == []


def test_updates_missed_while_disconnected_are_replayed_with_last_event_id(
    gateway: Gateway,
) -> None:
    with Subscriber(gateway.hub_url, [books_template(gateway)]) as subscriber:
        httpx.post(f"{gateway.url}/books", json=BOOK, headers=AS_ADMIN).raise_for_status()
        seen = subscriber.next()
    missed = httpx.post(f"{gateway.url}/books", json={**BOOK, "isbn": "2"}, headers=AS_ADMIN)

    with Subscriber(gateway.hub_url, [books_template(gateway)], last_event_id=seen.id) as again:
        replayed = again.next()
    assert json.loads(replayed.data) == missed.json()


def test_changes_made_through_the_models_publish_too(gateway: Gateway) -> None:
    with Subscriber(gateway.hub_url, [books_template(gateway)]) as subscriber:
        with gateway.app.app_context():
            gateway.db.session.add(gateway.model("Book")(title="Scripted", author="Cli"))
            gateway.db.session.commit()
            with Session(gateway.db.engine) as session:
                book = session.get(gateway.model("Book"), 1)
                assert book is not None
                book.title = "Scripted twice"
                session.commit()

        create, update = subscriber.take(2)
    assert create.data == update.data.replace("Scripted twice", "Scripted")
    assert json.loads(update.data)["@id"] == "/books/1"
    current = httpx.get(f"{gateway.url}/books/1", headers=JSON_LD).json()
    assert json.loads(update.data) == current


def _mercure_links(response: httpx.Response) -> list[str]:
    """The ``rel="mercure"`` values of the response's ``Link`` header(s)."""
    links = response.headers.get_list("Link", split_commas=True)
    return [link for link in links if link.endswith('rel="mercure"')]


def test_discovery_link_only_on_mercure_resources(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    shop = bookshop()
    quiet_reviews = tuple(
        replace(r, mercure=MercureSpec()) if r.name == "Review" else r for r in shop.resources
    )
    gw = start_gateway(serve, tmp_path / "shop.sqlite", spec=replace(shop, resources=quiet_reviews))
    try:
        link = f'<{gw.hub_url}>; rel="mercure"'
        assert _mercure_links(httpx.get(f"{gw.url}/books")) == [link]
        httpx.post(f"{gw.url}/books", json=BOOK, headers=AS_ADMIN).raise_for_status()
        assert _mercure_links(httpx.get(f"{gw.url}/books/1")) == [link]
        reviews = httpx.get(f"{gw.url}/reviews", headers=as_user("Ann"))
        assert reviews.status_code == 200, reviews.text
        assert _mercure_links(reviews) == []
        assert gw.publisher.discovery_url_for("Book") == "/.well-known/mercure"
        assert gw.publisher.discovery_url_for("Review") is None
    finally:
        gw.publisher.close()


def test_an_external_hub_without_a_token_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MERCURE_PUBLISH_URL", "http://hub.internal/.well-known/mercure")
    with pytest.raises(PublishSettingsError, match="MERCURE_JWT_TOKEN is empty"):
        build_app(tmp_path / "shop.sqlite")
