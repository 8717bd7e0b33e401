"""``/.well-known/mercure`` over a real gevent server: statuses, CORS, delivery, history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.hub import Hub
from tests.hub.conftest import PUBLISHER, token
from tests.hub.sse_client import Subscription, publish

BOOK = "https://example.com/books/1"
BOOKS = "https://example.com/books/{id}"
LiveHub = Callable[..., tuple[str, Hub]]

EXPIRED = token(publish=("*",), subscribe=("*",), expires_in=-60)
SUBSCRIBER_ONLY = token(subscribe=("*",))
WRONG_KEY = token(publish=("*",), subscribe=("*",), key="another-key-" * 6)

# -- publish ---------------------------------------------------------------------------------

PUBLISH_CASES: list[tuple[str, str | None, dict[str, Any], int, str | None]] = [
    ("no token", None, {"topic": BOOK}, 401, "Unauthorized\n"),
    ("no token and no topic", None, {}, 401, "Unauthorized\n"),
    ("wrong key", WRONG_KEY, {"topic": BOOK}, 401, "Unauthorized\n"),
    ("expired token", EXPIRED, {"topic": BOOK}, 401, "Unauthorized\n"),
    ("no publish claim", SUBSCRIBER_ONLY, {"topic": BOOK}, 401, "Unauthorized\n"),
    ("empty publish claim", token(publish=()), {"topic": BOOK}, 401, "Unauthorized\n"),
    (
        "topic outside the claim",
        token(publish=("https://example.com/authors/{id}",)),
        {"topic": BOOK},
        401,
        "Unauthorized\n",
    ),
    (
        "one topic outside the claim",
        token(publish=(BOOKS,)),
        {"topic": [BOOK, "https://example.com/authors/1"]},
        401,
        "Unauthorized\n",
    ),
    ("missing topic", PUBLISHER, {"data": "x"}, 400, 'Missing "topic" parameter\n'),
    ("too many topics", PUBLISHER, {"topic": [BOOK] * 1001}, 400, "too many topics in update\n"),
    ("bad retry", PUBLISHER, {"topic": BOOK, "retry": "soon"}, 400, 'Invalid "retry" parameter\n'),
    ("negative retry", PUBLISHER, {"topic": BOOK, "retry": "-1"}, 400, None),
    (
        "LF in id",
        PUBLISHER,
        {"topic": BOOK, "id": "a\nb"},
        400,
        '"id" field contains a forbidden control character\n',
    ),
    ("CR in id", PUBLISHER, {"topic": BOOK, "id": "a\rb"}, 400, None),
    ("NUL in id", PUBLISHER, {"topic": BOOK, "id": "a\x00b"}, 400, None),
    (
        "reserved id",
        PUBLISHER,
        {"topic": BOOK, "id": "earliest"},
        400,
        '"id" field cannot be "earliest": it is reserved for Last-Event-ID\n',
    ),
    (
        "LF in type",
        PUBLISHER,
        {"topic": BOOK, "type": "a\nb"},
        400,
        '"type" field contains a forbidden control character\n',
    ),
    ("control character in topic", PUBLISHER, {"topic": "a\x01b"}, 400, None),
    (
        "reserved topic",
        PUBLISHER,
        {"topic": "https://example.com/.well-known/mercure/subscriptions/x/y"},
        403,
        '"https://example.com/.well-known/mercure/subscriptions/x/y": topic value references '
        'the reserved "/.well-known/mercure" namespace\n',
    ),
    ("valid", PUBLISHER, {"topic": BOOK, "data": "x", "id": "my-id"}, 200, "my-id"),
    ("valid with retry", PUBLISHER, {"topic": BOOK, "retry": "100"}, 200, None),
    ("private with any value", PUBLISHER, {"topic": BOOK, "private": ""}, 200, None),
    ("template claim", token(publish=(BOOKS,)), {"topic": BOOK}, 200, None),
    (
        "namespaced claim",
        None,
        {"topic": BOOK},
        200,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "jwt", "fields", "status", "body"), PUBLISH_CASES, ids=[c[0] for c in PUBLISH_CASES]
)
def test_publish_statuses(
    live_hub: LiveHub,
    client: httpx.Client,
    case: str,
    jwt: str | None,
    fields: dict[str, Any],
    status: int,
    body: str | None,
) -> None:
    url, _hub = live_hub()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if case == "namespaced claim":
        import jwt as pyjwt

        from tests.hub.conftest import TEST_KEY

        jwt = pyjwt.encode({"https://mercure.rocks/": {"publish": ["*"]}}, TEST_KEY, "HS256")
    if jwt is not None:
        headers["Authorization"] = f"Bearer {jwt}"
    pairs = [
        (name, item)
        for name, value in fields.items()
        for item in ([value] if isinstance(value, str) else value)
    ]
    response = client.post(url, content=str(httpx.QueryParams(pairs)).encode(), headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    if body is not None:
        assert response.text == body
    if status == 200 and body is None:
        assert response.text.startswith("urn:uuid:")


@pytest.mark.parametrize(
    ("headers", "cookies", "status"),
    [
        ({"Origin": "https://app.example"}, True, 200),
        ({"Referer": "https://app.example/page"}, True, 200),
        ({"Origin": "https://evil.example"}, True, 401),
        ({}, True, 401),
        # header and query tokens need no origin
        ({"Authorization": f"Bearer {PUBLISHER}"}, False, 200),
        # a present but broken header wins over a valid cookie
        ({"Authorization": "Basic xyz", "Origin": "https://app.example"}, True, 401),
    ],
)
def test_cookie_publish_needs_an_allowed_origin(
    live_hub: LiveHub,
    client: httpx.Client,
    headers: dict[str, str],
    cookies: bool,
    status: int,
) -> None:
    url, _hub = live_hub(publish_origins=("https://app.example",), cookie_name="hubToken")
    if cookies:
        headers = {**headers, "Cookie": f"hubToken={PUBLISHER}"}
    response = client.post(url, data={"topic": BOOK}, headers=headers)
    assert response.status_code == status, response.text


def test_publish_with_query_token(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    response = client.post(url, params={"authorization": PUBLISHER}, data={"topic": BOOK})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ([("authorization", "")], {}),
        ([("authorization", SUBSCRIBER_ONLY), ("authorization", SUBSCRIBER_ONLY)], {}),
        ([], {"Cookie": "mercureAuthorization="}),
    ],
    ids=["empty parameter", "repeated parameter", "empty cookie"],
)
def test_a_present_but_unusable_token_is_refused_even_when_anonymous_is_allowed(
    live_hub: LiveHub, client: httpx.Client, params: list[tuple[str, str]], headers: dict[str, str]
) -> None:
    url, _hub = live_hub(anonymous=True)
    response = client.get(url, params=[("topic", BOOK), *params], headers=headers)
    assert (response.status_code, response.text) == (401, "Unauthorized\n")


# -- subscribe errors ------------------------------------------------------------------------

SUBSCRIBE_CASES: list[tuple[str, dict[str, Any], list[str], str | None, int, str]] = [
    ("missing topic", {}, [], None, 400, 'Missing "topic" parameter.\n'),
    ("missing topic with token", {}, [], SUBSCRIBER_ONLY, 400, 'Missing "topic" parameter.\n'),
    ("invalid token", {}, [BOOK], WRONG_KEY, 401, "Unauthorized\n"),
    ("expired token", {}, [BOOK], EXPIRED, 401, "Unauthorized\n"),
    ("anonymous refused", {"anonymous": False}, [BOOK], None, 401, "Unauthorized\n"),
    ("auth before topic", {"anonymous": False}, [], None, 401, "Unauthorized\n"),
    (
        "too many topics",
        {"anonymous": False},
        ["t"] * 1001,
        None,
        400,
        'Too many "topic" parameters.\n',
    ),
]


@pytest.mark.parametrize(
    ("case", "overrides", "topics", "jwt", "status", "body"),
    SUBSCRIBE_CASES,
    ids=[c[0] for c in SUBSCRIBE_CASES],
)
def test_subscribe_statuses(
    live_hub: LiveHub,
    client: httpx.Client,
    case: str,
    overrides: dict[str, Any],
    topics: list[str],
    jwt: str | None,
    status: int,
    body: str,
) -> None:
    url, _hub = live_hub(**overrides)
    headers = {"Authorization": f"Bearer {jwt}"} if jwt else {}
    response = client.get(url, params=[("topic", t) for t in topics], headers=headers)
    assert response.status_code == status
    assert response.text == body
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_subscribe_with_query_or_cookie_token_when_anonymous_is_refused(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(anonymous=False)
    with Subscription(client, url, [BOOK], params={"authorization": SUBSCRIBER_ONLY}) as sub:
        assert sub.response.status_code == 200
    with Subscription(client, url, [BOOK], cookies={"mercureAuthorization": SUBSCRIBER_ONLY}) as s:
        assert s.response.status_code == 200


def test_stream_headers(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    with Subscription(client, url, [BOOK]) as sub:
        headers = sub.response.headers
        assert sub.response.status_code == 200
        assert headers["content-type"] == "text/event-stream"
        assert headers["cache-control"] == "private, no-cache, no-store, must-revalidate, max-age=0"
        assert headers["x-accel-buffering"] == "no"
        assert "last-event-id" not in headers


def test_head_answers_stream_headers_and_leaves_no_subscriber(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, hub = live_hub()
    publish(client, url, PUBLISHER, topic=BOOK, id="h1")
    response = client.head(url, params={"topic": BOOK}, headers={"Last-Event-ID": "h1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["last-event-id"] == "h1"
    assert response.content == b""
    assert hub.transport.subscribers()[1] == []
    assert client.head(url).status_code == 400


# -- CORS ------------------------------------------------------------------------------------


def test_cors_allows_listed_origins_with_credentials(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(cors_origins=("https://app.example",))
    preflight = client.options(
        url,
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "last-event-id",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-allow-headers"] == (
        "authorization, cache-control, last-event-id"
    )
    response = publish(client, url, PUBLISHER, topic=BOOK)
    assert "access-control-allow-origin" not in response.headers
    denied = client.get(url, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
    with Subscription(client, url, [BOOK], headers={"Origin": "https://app.example"}) as sub:
        assert sub.response.headers["access-control-allow-origin"] == "https://app.example"


def test_cors_wildcard_never_allows_credentials(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub(cors_origins=("*",))
    response = client.get(url, headers={"Origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


# -- delivery --------------------------------------------------------------------------------


def test_update_reaches_subscribers_with_every_field(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    with Subscription(client, url, [BOOKS]) as sub:
        response = publish(
            client, url, PUBLISHER, topic=BOOK, data="a\r\nb\nc", id="e1", type="book", retry="3"
        )
        assert response.text == "e1"
        event = sub.next_event()
        assert (event.id, event.event, event.data, event.retry) == ("e1", "book", "a\nb\nc", 3)


def test_alternate_topics_match_and_each_subscriber_gets_one_copy(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    with Subscription(client, url, ["https://example.com/alt", BOOK]) as sub:
        publish(client, url, PUBLISHER, topic=[BOOK, "https://example.com/alt"], id="one")
        publish(client, url, PUBLISHER, topic="https://example.com/alt", id="two")
        assert [e.id for e in sub.events(2)] == ["one", "two"]


def test_private_updates_reach_only_authorized_subscribers(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    alternate = "https://example.com/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1"
    authorized = token(subscribe=("https://example.com/users/foo/{?topic}",))
    wrong = token(subscribe=("https://example.com/users/bar/{?topic}",))
    auth = {"Authorization": f"Bearer {authorized}"}
    with (
        Subscription(client, url, [BOOKS]) as anonymous,
        Subscription(client, url, [BOOKS], headers={"Authorization": f"Bearer {wrong}"}) as bad,
        Subscription(client, url, [BOOKS], headers=auth) as good,
    ):
        publish(client, url, PUBLISHER, topic=[BOOK, alternate], private="on", id="secret")
        publish(client, url, PUBLISHER, topic=BOOK, id="public")
        assert [e.id for e in good.events(2)] == ["secret", "public"]
        # The next event the others see is the public one: the private one never came.
        assert anonymous.next_event().id == "public"
        assert bad.next_event().id == "public"


# -- history ---------------------------------------------------------------------------------


def test_last_event_id_header_replays_then_streams_live(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    for update_id in ("h1", "h2", "h3"):
        publish(client, url, PUBLISHER, topic=BOOK, id=update_id)
    with Subscription(client, url, [BOOK], headers={"Last-Event-ID": "h1"}) as sub:
        assert sub.response.headers["last-event-id"] == "h1"
        publish(client, url, PUBLISHER, topic=BOOK, id="live")
        assert [e.id for e in sub.events(3)] == ["h2", "h3", "live"]


def test_last_event_id_query_parameter_and_header_precedence(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    for update_id in ("h1", "h2", "h3"):
        publish(client, url, PUBLISHER, topic=BOOK, id=update_id)
    with Subscription(client, url, [BOOK], params={"lastEventID": "h2"}) as sub:
        assert sub.response.headers["last-event-id"] == "h2"
        assert sub.next_event().id == "h3"
    with Subscription(
        client, url, [BOOK], params={"lastEventID": "h1"}, headers={"Last-Event-ID": "h2"}
    ) as sub:
        assert sub.response.headers["last-event-id"] == "h2"
        assert sub.next_event().id == "h3"


def test_earliest_and_unknown_ids(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    for update_id in ("h1", "h2"):
        publish(client, url, PUBLISHER, topic=BOOK, id=update_id)
    with Subscription(client, url, [BOOK], params={"lastEventID": "earliest"}) as sub:
        assert sub.response.headers["last-event-id"] == "earliest"
        assert [e.id for e in sub.events(2)] == ["h1", "h2"]
    with Subscription(client, url, [BOOK], headers={"Last-Event-ID": "lost"}) as sub:
        assert sub.response.headers["last-event-id"] == "earliest"
        publish(client, url, PUBLISHER, topic=BOOK, id="after")
        assert sub.next_event().id == "after"


def test_history_replay_respects_private_authorization(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    publish(client, url, PUBLISHER, topic=BOOK, id="secret", private="on")
    publish(client, url, PUBLISHER, topic=BOOK, id="public")
    with Subscription(client, url, [BOOK], params={"lastEventID": "earliest"}) as sub:
        assert sub.next_event().id == "public"
    auth = {"Authorization": f"Bearer {token(subscribe=(BOOK,))}"}
    with Subscription(client, url, [BOOK], params={"lastEventID": "earliest"}, headers=auth) as s:
        assert [e.id for e in s.events(2)] == ["secret", "public"]


def test_a_closed_transport_answers_503_to_subscribers_and_500_to_publishers(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, hub = live_hub()
    hub.transport.close()
    subscribe = client.get(url, params={"topic": BOOK})
    assert (subscribe.status_code, subscribe.text) == (503, "Service Unavailable\n")
    published = publish(client, url, PUBLISHER, topic=BOOK)
    assert (published.status_code, published.text) == (500, "Internal Server Error\n")
