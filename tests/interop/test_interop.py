"""Clients this project did not write talk to the hub on a real gevent server.

Subscribers: Node's ``eventsource`` package and ``sseclient-py``. Publishers: the
``mercure-publisher`` library from PyPI and ``curl`` posting the form as the reference
documentation shows.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import gevent
import httpx
import sseclient
from mercure_publisher import MercureConfig, MercurePublisher

from tests.interop.clients import JWT_KEY, READ_TIMEOUT, NodeSubscriber, start_hub, token
from tests.services import LiveServer, unavailable


def publisher(hub_url: str) -> MercurePublisher:
    return MercurePublisher(
        MercureConfig(hub_url=hub_url, publisher_jwt_key=JWT_KEY, publish_topics=["*"])
    )


def subscribe_url(hub_url: str, *topics: str, **params: str) -> str:
    return f"{hub_url}?{urlencode([('topic', t) for t in topics] + list(params.items()))}"


def test_node_eventsource_receives_every_field_from_the_pypi_publisher(
    serve: Callable[..., LiveServer], node_subscriber: Callable[..., NodeSubscriber]
) -> None:
    hub_url = start_hub(serve)
    selector = "https://example.com/books/{id}"
    subscriber = node_subscriber(
        subscribe_url(hub_url, selector), 2, token(subscribe=[selector]), "BookUpdated"
    )

    with publisher(hub_url) as client:
        first = client.publish(
            "https://example.com/books/1",
            {"@id": "/books/1", "title": "Dune"},
            private=True,
            id="urn:book:1:v1",
            type="BookUpdated",
            retry=3000,
        )
        second = client.publish(
            ["https://example.com/books/2", "https://example.com/alternate"], "one\ntwo\r\nthree"
        )

    assert first == "urn:book:1:v1"
    assert subscriber.events(2) == [
        {
            "type": "BookUpdated",
            "data": '{"@id": "/books/1", "title": "Dune"}',
            "lastEventId": "urn:book:1:v1",
        },
        {"type": "message", "data": "one\ntwo\nthree", "lastEventId": second},
    ]


def test_node_eventsource_resumes_after_a_last_event_id(
    serve: Callable[..., LiveServer], node_subscriber: Callable[..., NodeSubscriber]
) -> None:
    hub_url = start_hub(serve)
    with publisher(hub_url) as client:
        client.publish("https://example.com/feed", "missed-1", id="e1")
        client.publish("https://example.com/feed", "missed-2", id="e2")

    subscriber = node_subscriber(
        subscribe_url(hub_url, "https://example.com/feed", lastEventID="e1"), 1
    )

    assert subscriber.events(1) == [{"type": "message", "data": "missed-2", "lastEventId": "e2"}]


def sse_events(hub_url: str, *topics: str) -> Iterator[sseclient.Event]:
    """sseclient-py reading an anonymous subscription; yields once connected (the first
    item is ``None``), then every event."""
    with (
        httpx.Client(timeout=httpx.Timeout(READ_TIMEOUT)) as http,
        http.stream("GET", subscribe_url(hub_url, *topics)) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield None
        yield from sseclient.SSEClient(response.iter_bytes()).events()


def test_sseclient_gets_public_updates_and_never_private_ones(
    serve: Callable[..., LiveServer],
) -> None:
    hub_url = start_hub(serve)
    events = sse_events(hub_url, "*")
    assert next(events) is None

    with publisher(hub_url) as client:
        client.publish("https://example.com/secret", "private data", private=True, id="p1")
        client.publish("https://example.com/news", "public data", id="n1", type="news")

    with gevent.Timeout(READ_TIMEOUT):
        event = next(events)
    events.close()
    assert (event.id, event.event, event.data) == ("n1", "news", "public data")


def test_curl_form_post_as_documented_reaches_sseclient(
    serve: Callable[..., LiveServer],
) -> None:
    curl = shutil.which("curl")
    if curl is None:
        unavailable("curl", "install Debian's curl package")
    hub_url = start_hub(serve)
    events = sse_events(hub_url, "https://example.com/books/1")
    assert next(events) is None

    published = subprocess.run(
        [
            str(curl),
            "--silent",
            "--show-error",
            "--fail",
            hub_url,
            "-H",
            f"Authorization: Bearer {token(publish=['https://example.com/books/1'])}",
            "-d",
            "topic=https://example.com/books/1",
            "-d",
            "data=updated",
            "-d",
            "id=curl-1",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert published.returncode == 0, published.stderr
    assert published.stdout.strip() == "curl-1"

    with gevent.Timeout(READ_TIMEOUT):
        event = next(events)
    events.close()
    assert (event.id, event.data) == ("curl-1", "updated")
