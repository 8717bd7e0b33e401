"""Mercure 1.0 beside 0.x on one running hub, served by gunicorn (gevent workers).

One hub process speaks both protocols; each test talks to it as a client would, over
real HTTP and real event streams. The hub trusts two issuers of 1.0 tokens: its own
(``MERCURE_ISSUER``, the test key) and an external one signing with RS256.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.hub.matchers import MAX_MATCHED_TOPIC
from app.hub.oauth import AUTHORIZATION_DETAIL_TYPE
from tests.deploy.servers import Process, gunicorn, running
from tests.hub.conftest import TEST_KEY, token
from tests.hub.sse_client import Subscription, publish
from tests.hub.v1 import LOCAL_ISSUER, access_token, detail, exact, pattern, raw_token
from tests.services import free_port

EXTERNAL_ISSUER = "https://as.example"
PUBLISHER_0X = token(publish=("*",))
SUBSCRIBER_0X = token(subscribe=("*",))


class Hub:
    """The running hub: its URL (also its resource identifier) and the external key."""

    def __init__(self, server: Process, url: str, external_key: str) -> None:
        self.server = server
        self.url = url
        self.origin = url.removesuffix("/.well-known/mercure")
        self.external_key = external_key

    def token(self, **claims: object) -> str:
        return access_token(self.url, **claims)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    port = free_port()
    url = f"http://127.0.0.1:{port}/.well-known/mercure"
    env = {
        "MERCURE_JWT_KEY": TEST_KEY,
        "MERCURE_SUBSCRIPTIONS": "1",
        "MERCURE_ISSUER": LOCAL_ISSUER,
        "MERCURE_RESOURCE_IDENTIFIER": url,
        "MERCURE_ISSUERS": json.dumps(
            [{"issuer": EXTERNAL_ISSUER, "key": public_pem, "algorithms": ["RS256"]}]
        ),
        "MERCURE_HEARTBEAT": "0",
        "MERCURE_UI": "0",
    }
    tmp_path: Path = tmp_path_factory.mktemp("hub-v1")
    with running(
        gunicorn(tmp_path, env, workers=1, app="tests.hub.hub_wsgi:app", port=port)
    ) as server:
        yield Hub(server, url, private_pem)


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        yield client


def subscribe_v1(
    http: httpx.Client, hub: Hub, *pairs: tuple[str, str], bearer: str | None = None
) -> Subscription:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else None
    return Subscription(http, hub.url, [], query=pairs, headers=headers)


def challenge(response: httpx.Response) -> str:
    return response.headers.get("WWW-Authenticate", "")


# -- both protocols on one hub -----------------------------------------------------------


def test_an_update_in_either_protocol_reaches_subscribers_of_both(
    hub: Hub, http: httpx.Client
) -> None:
    topic = "https://example.com/books/1"
    with (
        Subscription(http, hub.url, ["https://example.com/books/{id}"]) as legacy,
        subscribe_v1(http, hub, ("match_urlpattern", "https://example.com/books/:id")) as modern,
        subscribe_v1(http, hub, ("match", topic)) as exact_one,
    ):
        assert modern.response.status_code == 200
        first = publish(http, hub.url, PUBLISHER_0X, topic=topic, data="from 0.x")
        assert first.status_code == 200, first.text
        second = publish(
            http, hub.url, hub.token(publish=exact(topic)), topic=topic, data="from 1.0"
        )
        assert second.status_code == 200, second.text
        for stream in (legacy, modern, exact_one):
            events = stream.events(2)
            assert [event.data for event in events] == ["from 0.x", "from 1.0"]
            assert [event.id for event in events] == [first.text, second.text]


def test_private_updates_follow_each_protocols_grants(hub: Hub, http: httpx.Client) -> None:
    allowed = "https://example.com/orders/1"
    other = "https://example.com/orders/2"
    reader = hub.token(subscribe=pattern("https://example.com/orders/1{/*}?"))
    with (
        Subscription(
            http,
            hub.url,
            ["https://example.com/orders/{id}"],
            headers={"Authorization": f"Bearer {token(subscribe=(allowed,))}"},
        ) as legacy,
        subscribe_v1(
            http, hub, ("match_urlpattern", "https://example.com/orders/:id"), bearer=reader
        ) as modern,
        subscribe_v1(http, hub, ("match_urlpattern", "https://example.com/orders/:id")) as anon,
    ):
        publisher = hub.token(publish=pattern("https://example.com/orders/*"))
        for topic in (other, allowed):
            response = publish(http, hub.url, publisher, topic=topic, data=topic, private="on")
            assert response.status_code == 200, response.text
        public = publish(http, hub.url, PUBLISHER_0X, topic=other, data="public")
        assert public.status_code == 200
        assert [event.data for event in legacy.events(2)] == [allowed, "public"]
        assert [event.data for event in modern.events(2)] == [allowed, "public"]
        assert anon.next_event().data == "public"


def test_an_alternate_topic_grants_a_private_update(hub: Hub, http: httpx.Client) -> None:
    reader = hub.token(subscribe=pattern("https://example.com/users/42/*"))
    with subscribe_v1(
        http, hub, ("match_urlpattern", "https://example.com/books/:id"), bearer=reader
    ) as stream:
        publisher = hub.token(publish=exact("*"))
        response = publish(
            http,
            hub.url,
            publisher,
            topic=["https://example.com/books/9", "https://example.com/users/42/books/9"],
            data="yours",
            private="on",
        )
        assert response.status_code == 200
        assert stream.next_event().data == "yours"


# -- subscribing ------------------------------------------------------------------------


def test_url_patterns_are_case_sensitive_and_relative_ones_use_the_hub_url(
    hub: Hub, http: httpx.Client
) -> None:
    with (
        subscribe_v1(http, hub, ("match_urlpattern", "https://example.com/books/:id")) as books,
        subscribe_v1(http, hub, ("match_urlpattern", "/local/:id")) as local,
        subscribe_v1(http, hub, ("match_exact", "https://example.com/Books/2")) as exactly,
    ):
        publisher = hub.token(publish=exact("*"))
        for topic in (
            "https://example.com/Books/2",  # exact only: the pattern's path is case-sensitive
            f"{hub.origin}/local/7",  # absolute topic, relative pattern
            "https://EXAMPLE.com/books/3",  # host names are not case-sensitive
        ):
            assert publish(http, hub.url, publisher, topic=topic, data=topic).status_code == 200
        assert exactly.next_event().data == "https://example.com/Books/2"
        assert local.next_event().data == f"{hub.origin}/local/7"
        assert books.next_event().data == "https://EXAMPLE.com/books/3"


@pytest.mark.parametrize(
    "pairs",
    [
        [("Match", "a")],
        [("match_URLPattern", "a")],
        [("match_regex", "a")],
        [("matches", "a")],
        [("match", "a"), ("topic", "a")],
        [("match_urlpattern", "https://example.com/(a")],
        [("match", "a\u200bb")],
        [("match", "a\x01")],
        [("match", "x" * 4097)],
        [("match", str(number)) for number in range(101)],
        [("match_urlpattern", f"https://example.com/{number}/:id") for number in range(17)],
        [("match_urlpattern", "/" + "*" * 33)],
        [("match_urlpattern", "https://example.com/([a-z]{1,1000})")],
        [("last_event_id", "earliest")],
    ],
    ids=[
        "case",
        "type-case",
        "unknown-type",
        "prefix",
        "mixed",
        "bad-pattern",
        "format-char",
        "control",
        "too-long",
        "too-many",
        "too-many-patterns",
        "too-many-parts",
        "large-repetition",
        "no-matcher",
    ],
)
def test_malformed_subscriptions_are_refused(
    hub: Hub, http: httpx.Client, pairs: list[tuple[str, str]]
) -> None:
    response = http.get(hub.url, params=pairs)
    assert response.status_code == 400, response.text


def test_last_event_id_and_the_mercure_last_event_id_field(hub: Hub, http: httpx.Client) -> None:
    topic = "https://example.com/history/1"
    publisher = hub.token(publish=exact(topic))
    first = publish(http, hub.url, publisher, topic=topic, data="one").text
    second = publish(http, hub.url, publisher, topic=topic, data="two").text
    with subscribe_v1(http, hub, ("match", topic), ("last_event_id", first)) as stream:
        assert stream.response.headers["Mercure-Last-Event-ID"] == first
        assert "Last-Event-ID" not in stream.response.headers
        assert stream.next_event().id == second
    # The header wins over the query parameter.
    response = http.head(
        hub.url,
        params=[("match", topic), ("last_event_id", first)],
        headers={"Last-Event-ID": "unknown-id"},
    )
    assert response.headers["Mercure-Last-Event-ID"] == "earliest"
    plain = http.head(hub.url, params=[("match", topic)])
    assert "Mercure-Last-Event-ID" not in plain.headers


# -- authorization ----------------------------------------------------------------------


def test_tokens_failing_validation_are_invalid_token(hub: Hub, http: httpx.Client) -> None:
    now = int(time.time())
    good = {
        "iss": LOCAL_ISSUER,
        "aud": hub.url,
        "sub": "s",
        "exp": now + 60,
        "authorization_details": [detail(["subscribe"], [{"match": "*"}])],
    }
    external = jwt.encode(
        {**good, "iss": EXTERNAL_ISSUER},
        hub.external_key,
        algorithm="RS256",
        headers={"typ": "at+jwt"},
    )
    assert http.head(hub.url, params={"match": "a"}, headers=bearer(external)).status_code == 200
    failing = {
        "0.x token": SUBSCRIBER_0X,
        "typ JWT": raw_token(good, headers={"typ": "JWT"}),
        "no exp": raw_token({k: v for k, v in good.items() if k != "exp"}),
        "expired": raw_token({**good, "exp": now - 10}),
        "exp past any float": raw_token({**good, "exp": 10**400}),
        "other audience": raw_token({**good, "aud": "https://other.example/.well-known/mercure"}),
        "untrusted issuer": raw_token({**good, "iss": "https://evil.example"}),
        "issuer confusion": raw_token({**good, "iss": EXTERNAL_ISSUER}),
        "unknown match_type": raw_token(
            {
                **good,
                "authorization_details": [
                    detail(["subscribe"], [{"match": "a", "match_type": "regex"}])
                ],
            }
        ),
        "bad pattern": raw_token(
            {
                **good,
                "authorization_details": [
                    detail(["subscribe"], [{"match": "https://x/(a", "match_type": "urlpattern"}])
                ],
            }
        ),
        "empty actions": raw_token(
            {**good, "authorization_details": [detail([], [{"match": "*"}])]}
        ),
        "non-string action": raw_token(
            {**good, "authorization_details": [detail([1], [{"match": "*"}])]}
        ),
        "bad signature": raw_token(good, key="another-key-of-at-least-32-bytes-long!!"),
    }
    for name, candidate in failing.items():
        response = http.get(hub.url, params={"match": "a"}, headers=bearer(candidate))
        assert response.status_code == 401, name
        assert 'error="invalid_token"' in challenge(response), name
        assert 'resource_metadata="' in challenge(response), name
    unknown_action = raw_token(
        {
            **good,
            "authorization_details": [detail(["subscribe", "future-action"], [{"match": "*"}])],
        }
    )
    assert http.head(hub.url, params={"match": "a"}, headers=bearer(unknown_action)).is_success


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def test_tokens_never_come_from_the_query_string(hub: Hub, http: httpx.Client) -> None:
    reader = hub.token(subscribe=exact("*"))
    for name in ("access_token", "authorization"):
        response = http.get(hub.url, params={"match": "a", name: reader})
        assert response.status_code == 400
        assert 'error="invalid_request"' in challenge(response)
    response = http.get(hub.url, params={"match": "a"}, headers={"Authorization": "Basic x"})
    assert response.status_code == 400
    assert 'error="invalid_request"' in challenge(response)


def test_the_cookie_carries_a_token_and_the_header_wins(hub: Hub, http: httpx.Client) -> None:
    topic = "https://example.com/cookie/1"
    reader = hub.token(subscribe=exact(topic))
    cookie = {"__Secure-mercure_access_token": reader}
    with Subscription(http, hub.url, [], query=[("match", topic)], cookies=cookie) as stream:
        publisher = hub.token(publish=exact(topic))
        publish(http, hub.url, publisher, topic=topic, data="secret", private="on")
        assert stream.next_event().data == "secret"
    # An invalid cookie is ignored when the Authorization header is present.
    response = http.head(
        hub.url,
        params={"match": topic},
        headers={**bearer(reader), "Cookie": "__Secure-mercure_access_token=garbage"},
    )
    assert response.status_code == 200


def test_publish_answers(hub: Hub, http: httpx.Client) -> None:
    topic = "https://example.com/pub/1"
    publisher = hub.token(publish=exact(topic))
    assert publish(http, hub.url, publisher, topic=topic, data="ok").status_code == 200
    denied = publish(http, hub.url, publisher, topic=[topic, "https://example.com/pub/2"])
    assert denied.status_code == 403
    assert 'error="insufficient_scope"' in challenge(denied)
    missing = http.post(hub.url, data={"topic": topic})
    assert missing.status_code == 401
    assert challenge(missing).startswith("Bearer ")
    assert "error=" not in challenge(missing)
    everything = hub.token(publish=exact("*"))
    for fields in (
        {"topic": topic, "type": "mercure"},
        {"topic": "*"},
        {"topic": "/.well-known/mercure/subscriptions/exact/x/y"},
        {"topic": f"{hub.origin}/.well-known/%6Dercure/x"},
        {"topic": "https://elsewhere.example/a/../.well-known/mercure"},
        {"topic": topic, "id": "#mine"},
        {"topic": topic, "id": "earliest"},
        {"topic": topic, "retry": "-1"},
        {"topic": "https://example.com/\u202e"},
        {"data": "no topic"},
    ):
        response = publish(http, hub.url, everything, **fields)
        assert response.status_code == 400, fields
    assert publish(http, hub.url, everything, topic=topic, unknown="x").status_code == 200


def test_protected_resource_metadata(hub: Hub, http: httpx.Client) -> None:
    response = http.get(f"{hub.origin}/.well-known/oauth-protected-resource/.well-known/mercure")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert document["resource"] == hub.url
    assert document["bearer_methods_supported"] == ["header"]
    assert document["authorization_details_types_supported"] == [AUTHORIZATION_DETAIL_TYPE]
    assert document["mercure_cookie"] == "__Secure-mercure_access_token"
    assert document["mercure_subscriptions"] is True
    refused = http.get(hub.url, params={"match": "a"}, headers=bearer("not-a-jwt"))
    assert (
        f'resource_metadata="{hub.origin}/.well-known/oauth-protected-resource/.well-known/mercure"'
        in challenge(refused)
    )


# -- active subscriptions ---------------------------------------------------------------


def test_subscription_events_and_api(hub: Hub, http: httpx.Client) -> None:
    watcher = hub.token(
        subscribe=pattern("/.well-known/mercure/subscriptions{/*}?"),
        payload={"role": "watcher"},
    )
    matcher = "https://example.com/watched/:id"
    with subscribe_v1(
        http,
        hub,
        ("match_urlpattern", "/.well-known/mercure/subscriptions/urlpattern/*"),
        bearer=watcher,
    ) as events:
        reader = hub.token(subscribe=pattern(matcher), payload={"tenant": "t1"})
        with subscribe_v1(http, hub, ("match_urlpattern", matcher), bearer=reader):
            event = events.next_event()
            assert event.event == "mercure"
            document = json.loads(event.data)
            subscriber = document["subscriber"]
            expected_id = (
                "/.well-known/mercure/subscriptions/urlpattern/"
                f"{quote(matcher, safe='')}/{quote(subscriber, safe='')}"
            )
            assert document == {
                "id": expected_id,
                "type": "subscription",
                "match_type": "urlpattern",
                "match": matcher,
                "subscriber": subscriber,
                "active": True,
                "payload": {"tenant": "t1"},
            }
            item = http.get(hub.origin + expected_id, headers=bearer(watcher))
            assert item.status_code == 200, item.text
            assert item.headers["Content-Type"] == "application/json"
            assert item.json() == document
            link = item.headers["Link"]
            assert f"<{hub.url}>" in link
            assert 'rel="mercure"' in link
            assert "last-event-id=" in link
            collection = http.get(
                f"{hub.origin}/.well-known/mercure/subscriptions", headers=bearer(watcher)
            ).json()
            assert collection["type"] == "subscriptions"
            assert collection["id"] == "/.well-known/mercure/subscriptions"
            assert document in collection["subscriptions"]
            narrow = hub.token(subscribe=exact("/.well-known/mercure/subscriptions"))
            forbidden = http.get(hub.origin + expected_id, headers=bearer(narrow))
            assert forbidden.status_code == 403
            assert 'error="insufficient_scope"' in challenge(forbidden)
            unknown = http.get(
                hub.origin + expected_id.rsplit("/", 1)[0] + "/urn%3Auuid%3Anobody",
                headers=bearer(watcher),
            )
            assert unknown.status_code == 404
        ended = json.loads(events.next_event().data)
        assert ended["active"] is False
        assert ended["id"] == expected_id


def test_subscription_events_reach_their_own_protocols_subscribers(
    hub: Hub, http: httpx.Client
) -> None:
    """A 0.x subscriber allowed everything gets the 0.x subscription events only, and a 1.0
    one allowed every subscription the 1.0 events only, as each API lists its own."""
    legacy_topic = "https://example.com/announced/0x"
    matcher = "https://example.com/announced/:id"
    marker_topic = "https://example.com/announced/marker"
    namespace = "/.well-known/mercure/subscriptions/*"
    with (
        Subscription(http, hub.url, ["*"], headers=bearer(SUBSCRIBER_0X)) as legacy_watch,
        subscribe_v1(
            http,
            hub,
            ("match_urlpattern", namespace),
            bearer=hub.token(subscribe=pattern(namespace)),
        ) as modern_watch,
        # Then, in this order, one subscriber of each protocol.
        Subscription(http, hub.url, [legacy_topic], headers=bearer(SUBSCRIBER_0X)),
        subscribe_v1(
            http, hub, ("match_urlpattern", matcher), bearer=hub.token(subscribe=pattern(matcher))
        ),
    ):
        marker = publish(http, hub.url, PUBLISHER_0X, topic=marker_topic, data="marker")
        assert marker.status_code == 200, marker.text
        seen_0x = []
        while (event := legacy_watch.next_event()).data != "marker":
            seen_0x.append(event)
        documents_0x = [json.loads(event.data) for event in seen_0x]
        assert {"topic": legacy_topic, "active": True}.items() <= documents_0x[-1].items()
        assert all(event.event != "mercure" for event in seen_0x)
        assert all("match_type" not in document for document in documents_0x)
        # The 1.0 watcher's first event is the 1.0 subscription's, with no 0.x one
        # before them (the 0.x subscriber connected first).
        announced = json.loads(modern_watch.next_event().data)
        assert (announced["match"], announced["active"]) == (matcher, True)


def test_each_protocols_subscriptions_api_lists_its_own_subscribers(
    hub: Hub, http: httpx.Client
) -> None:
    """A 0.x token allowed every subscription sees 0.x subscribers only, a 1.0 one 1.0
    subscribers only, as each protocol's subscription events go to its own."""
    legacy_topic = "https://example.com/listed/0x"
    matcher = "https://example.com/listed/:id"
    everything_0x = token(subscribe=("/.well-known/mercure/subscriptions{/topic}{/subscriber}",))
    everything_1_0 = hub.token(subscribe=pattern("/.well-known/mercure/subscriptions{/*}?"))
    collection = f"{hub.origin}/.well-known/mercure/subscriptions"
    with (
        Subscription(http, hub.url, [legacy_topic], headers=bearer(SUBSCRIBER_0X)) as legacy,
        subscribe_v1(
            http, hub, ("match_urlpattern", matcher), bearer=hub.token(subscribe=pattern(matcher))
        ) as modern,
    ):
        assert legacy.response.status_code == modern.response.status_code == 200
        seen_0x = http.get(collection, headers=bearer(everything_0x))
        assert seen_0x.status_code == 200, seen_0x.text
        topics_0x = [entry["topic"] for entry in seen_0x.json()["subscriptions"]]
        assert legacy_topic in topics_0x
        assert matcher not in topics_0x
        listed_1_0 = http.get(collection, headers=bearer(everything_1_0)).json()["subscriptions"]
        assert legacy_topic not in [entry["match"] for entry in listed_1_0]
        (subscriber,) = [entry["subscriber"] for entry in listed_1_0 if entry["match"] == matcher]
        hidden = http.get(
            f"{collection}/{quote(matcher, safe='')}/{quote(subscriber, safe='')}",
            headers=bearer(everything_0x),
        )
        assert hidden.status_code == 404


def test_url_patterns_skip_topics_past_the_matched_length(hub: Hub, http: httpx.Client) -> None:
    """A topic longer than MAX_MATCHED_TOPIC reaches exact and ``*`` matchers only, so no
    topic makes a pattern test costly."""
    long_topic = "https://example.com/long/" + "a" * MAX_MATCHED_TOPIC
    short_topic = "https://example.com/long/short"
    with (
        subscribe_v1(http, hub, ("match_urlpattern", "https://example.com/long/*")) as patterned,
        subscribe_v1(http, hub, ("match", long_topic)) as exactly,
    ):
        publisher = hub.token(publish=exact("*"))
        for topic in (long_topic, short_topic):
            assert publish(http, hub.url, publisher, topic=topic, data=topic).status_code == 200
        assert exactly.next_event().data == long_topic
        assert patterned.next_event().data == short_topic
