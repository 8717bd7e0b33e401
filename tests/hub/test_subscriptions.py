"""Active subscriptions: private subscription events and the subscriptions web API."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

import httpx
import pytest
from flask import Flask

from app.hub import Hub
from app.hub.subscriber import Subscriber, SubscriberInfo
from app.hub.subscriptions import (
    collection_document,
    subscription_document,
    subscription_id,
    subscription_updates,
)
from tests.hub.conftest import PUBLISHER, token
from tests.hub.sse_client import Subscription, publish

BOOKS = "https://example.com/books/{id}"
SUBSCRIPTIONS = "/.well-known/mercure/subscriptions"
WATCH_ALL = token(subscribe=(SUBSCRIPTIONS + "{/topic}{/subscriber}",))
LiveHub = Callable[..., tuple[str, Hub]]


def test_subscription_id_percent_encodes_both_parts() -> None:
    assert subscription_id(BOOKS, "urn:uuid:bb3de268") == (
        "/.well-known/mercure/subscriptions/"
        "https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D/urn%3Auuid%3Abb3de268"
    )


def test_subscription_document_shape() -> None:
    info = SubscriberInfo("urn:uuid:1", (BOOKS,), {"user": 7})
    assert subscription_document(info, BOOKS, active=False) == {
        "@context": "https://mercure.rocks/",
        "id": subscription_id(BOOKS, "urn:uuid:1"),
        "type": "Subscription",
        "subscriber": "urn:uuid:1",
        "topic": BOOKS,
        "active": False,
        "payload": {"user": 7},
    }
    assert "payload" not in subscription_document(SubscriberInfo("s", (BOOKS,)), BOOKS)


def test_one_private_update_per_topic() -> None:
    info = SubscriberInfo("urn:uuid:1", (BOOKS, "*"))
    updates = subscription_updates(info, active=True)
    assert [u.topics for u in updates] == [
        (subscription_id(BOOKS, "urn:uuid:1"),),
        (subscription_id("*", "urn:uuid:1"),),
    ]
    assert all(u.private for u in updates)
    assert json.loads(updates[0].data)["active"] is True


def test_collection_filters_by_topic() -> None:
    infos = [SubscriberInfo("a", (BOOKS, "*")), SubscriberInfo("b", ("*",))]
    everything = collection_document(SUBSCRIPTIONS, "last", infos)
    assert [s["subscriber"] for s in everything["subscriptions"]] == ["a", "a", "b"]
    assert everything["type"] == "Subscriptions"
    assert everything["lastEventID"] == "last"
    assert "@context" not in everything["subscriptions"][0]
    stars = collection_document("/x", "last", infos, "*")
    assert [s["subscriber"] for s in stars["subscriptions"]] == ["a", "b"]


def test_subscription_events_reach_authorized_watchers_only(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(subscriptions=True)
    auth = {"Authorization": f"Bearer {WATCH_ALL}"}
    with (
        Subscription(client, url, [SUBSCRIPTIONS + "{/topic}{/subscriber}"], headers=auth) as w,
        Subscription(client, url, ["*"]) as anonymous,
    ):
        payload_token = token(subscribe=("x",), payload={"user": 42})
        headers = {"Authorization": f"Bearer {payload_token}"}
        with Subscription(client, url, [BOOKS], headers=headers):
            # The anonymous subscription started after the watcher's: it is seen first.
            assert json.loads(w.next_event().data)["topic"] == "*"
            started = json.loads(w.next_event().data)
            assert started["active"] is True
            assert started["topic"] == BOOKS
            assert started["payload"] == {"user": 42}
            assert started["type"] == "Subscription"
        ended = json.loads(w.next_event().data)
        assert (ended["id"], ended["active"]) == (started["id"], False)
        publish(client, url, PUBLISHER, topic="https://example.com/public", id="public")
        # Anonymous "*" subscribers saw none of the private subscription events.
        assert anonymous.next_event().id == "public"


def test_no_subscription_events_or_api_unless_enabled(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    response = client.get(url + "/subscriptions", headers={"Authorization": f"Bearer {WATCH_ALL}"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("jwt", "status"),
    [
        (None, 401),
        (token(publish=("*",)), 401),
        (token(subscribe=("https://example.com/{x}",)), 401),
        (token(subscribe=("*",)), 200),
        (WATCH_ALL, 200),
        (token(subscribe=(SUBSCRIPTIONS,)), 200),
    ],
)
def test_api_requires_a_token_matching_the_url(
    live_hub: LiveHub, client: httpx.Client, jwt: str | None, status: int
) -> None:
    url, _hub = live_hub(subscriptions=True)
    headers = {"Authorization": f"Bearer {jwt}"} if jwt else {}
    assert client.get(url + "/subscriptions", headers=headers).status_code == status


def test_api_collection_topic_and_item(live_hub: LiveHub, client: httpx.Client) -> None:
    url, hub = live_hub(subscriptions=True)
    auth = {"Authorization": f"Bearer {WATCH_ALL}"}
    with (
        Subscription(client, url, [BOOKS], headers={"Authorization": f"Bearer {PUBLISHER}"}),
        Subscription(client, url, ["https://example.com/other"]),
    ):
        everything = client.get(url + "/subscriptions", headers=auth)
        assert everything.status_code == 200
        assert everything.headers["content-type"] == "application/ld+json"
        assert everything.headers["cache-control"] == "must-revalidate"
        document = everything.json()
        assert document["id"] == SUBSCRIPTIONS
        assert document["type"] == "Subscriptions"
        assert everything.headers["etag"] == document["lastEventID"]
        assert document["lastEventID"] == hub.transport.subscribers()[0]
        assert sorted(s["topic"] for s in document["subscriptions"]) == [
            BOOKS,
            "https://example.com/other",
        ]

        by_topic = client.get(f"{url}/subscriptions/{quote(BOOKS, safe='')}", headers=auth)
        assert by_topic.status_code == 200
        (only,) = by_topic.json()["subscriptions"]
        assert only["topic"] == BOOKS
        assert by_topic.json()["id"] == f"{SUBSCRIPTIONS}/{quote(BOOKS, safe='')}"

        item = client.get(url.removesuffix("/.well-known/mercure") + only["id"], headers=auth)
        assert item.status_code == 200
        body = item.json()
        assert body["@context"] == "https://mercure.rocks/"
        assert (body["id"], body["active"], body["topic"]) == (only["id"], True, BOOKS)
        assert body["lastEventID"] == document["lastEventID"]

        missing = client.get(
            f"{url}/subscriptions/{quote(BOOKS, safe='')}/urn%3Auuid%3Anobody", headers=auth
        )
        assert missing.status_code == 404

        cached = client.get(
            url + "/subscriptions",
            headers={**auth, "If-None-Match": everything.headers["etag"]},
        )
        assert cached.status_code == 304


def test_api_splits_the_raw_path_when_the_server_gives_it(
    hub_app: Callable[..., tuple[Flask, Hub]],
) -> None:
    """With the raw request URI (gunicorn, werkzeug), ``%2F`` inside a part never splits it."""
    app, hub = hub_app(subscriptions=True)
    subscriber = Subscriber(["https://example.com/a/b"], subscriber_id="https://ids.example/7")
    hub.connect(subscriber)
    auth = {"Authorization": f"Bearer {WATCH_ALL}"}
    item = subscription_id("https://example.com/a/b", "https://ids.example/7")
    with app.test_client() as http:
        response = http.get(item, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json is not None
        assert response.json["subscriber"] == "https://ids.example/7"
        assert response.json["id"] == item
        by_topic = http.get(item.rsplit("/", 1)[0], headers=auth)
        assert by_topic.json is not None
        assert [s["id"] for s in by_topic.json["subscriptions"]] == [item]


def test_api_finds_known_subscribers_in_a_decoded_path(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    """The gevent server gives only the decoded path: known subscriber ids are matched."""
    url, hub = live_hub(subscriptions=True)
    hub.connect(Subscriber(["https://example.com/a/b"], subscriber_id="https://ids.example/7"))
    item = subscription_id("https://example.com/a/b", "https://ids.example/7")
    origin = url.removesuffix("/.well-known/mercure")
    response = client.get(origin + item, headers={"Authorization": f"Bearer {WATCH_ALL}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == item


def test_subscription_id_escapes_like_go_query_escape() -> None:
    """url.QueryEscape: a space is ``+``; only letters, digits and ``-_.~`` stay as they are."""
    assert subscription_id("https://example.com/a b*~'!()+é", "urn:uuid:1 2") == (
        "/.well-known/mercure/subscriptions/"
        "https%3A%2F%2Fexample.com%2Fa+b%2A~%27%21%28%29%2B%C3%A9/urn%3Auuid%3A1+2"
    )


SPACED = "https://example.com/a b"
WATCH_ANYTHING = token(subscribe=("*",))


def test_api_serves_ids_with_spaces_from_a_decoded_path(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    """The gevent server gives only the decoded path, where the ``+`` of a space stays ``+``:
    known subscriptions are matched in that form (a topic ``a+b`` would look the same)."""
    url, hub = live_hub(subscriptions=True)
    hub.connect(Subscriber([SPACED], subscriber_id="urn:uuid:s 1"))
    origin = url.removesuffix("/.well-known/mercure")
    auth = {"Authorization": f"Bearer {WATCH_ANYTHING}"}
    item = subscription_id(SPACED, "urn:uuid:s 1")
    response = client.get(origin + item, headers=auth)
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["topic"]) == (item, SPACED)
    by_topic = client.get(origin + subscription_id(SPACED, "x").rsplit("/", 1)[0], headers=auth)
    assert [s["topic"] for s in by_topic.json()["subscriptions"]] == [SPACED]
    assert by_topic.json()["id"] == f"{SUBSCRIPTIONS}/https%3A%2F%2Fexample.com%2Fa+b"


def test_api_serves_ids_with_spaces_from_the_raw_path(
    hub_app: Callable[..., tuple[Flask, Hub]],
) -> None:
    app, hub = hub_app(subscriptions=True)
    hub.connect(Subscriber([SPACED], subscriber_id="urn:uuid:s 1"))
    item = subscription_id(SPACED, "urn:uuid:s 1")
    with app.test_client() as http:
        response = http.get(item, headers={"Authorization": f"Bearer {WATCH_ANYTHING}"})
        assert response.status_code == 200, response.text
        assert response.json is not None
        assert (response.json["id"], response.json["topic"]) == (item, SPACED)
        # As in the reference, "+" is reserved: a {/topic} expansion cannot hold it.
        refused = http.get(item, headers={"Authorization": f"Bearer {WATCH_ALL}"})
        assert refused.status_code == 401


def test_unknown_subscription_answers_like_go_http_not_found(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, hub = live_hub(subscriptions=True)
    response = client.get(
        f"{url}/subscriptions/{quote(BOOKS, safe='')}/urn%3Auuid%3Anobody",
        headers={"Authorization": f"Bearer {WATCH_ALL}"},
    )
    assert (response.status_code, response.text) == (404, "404 page not found\n")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    # The reference sets the ETag before it looks the subscription up.
    assert response.headers["etag"] == hub.transport.subscribers()[0]
