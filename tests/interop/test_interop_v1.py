"""A Mercure 1.0 client this project did not write agrees with the hub on URL Patterns.

The Node subscriber (``subscriber_v1.mjs``) builds its subscription with the WHATWG URL
Pattern implementation of ``urlpattern-polyfill`` (the one browsers ship as
``URLPattern``) and predicts which published topics its patterns match; the hub, serving
both protocols on a real gevent server, must deliver exactly those, in order.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest
from flask import Flask

from app import hub
from app.hub.command import mint_access_token
from app.hub.matchers import EXACT, URLPATTERN, Matcher
from app.hub.settings import HubSettings
from tests.interop.clients import HERE, JWT_KEY, NodeSubscriber, require_node_eventsource
from tests.services import LiveServer, free_port, unavailable

ISSUER = "https://publisher.example"
END = "urn:interop:end"
PATTERNS = [
    "https://example.com/books/:id",
    "https://example.com/authors/:author/books/:id(\\d+)",
    "https://*.example.org/feeds/*",
    "/local/:name",
]
TOPICS = [
    "https://example.com/books/1",
    "https://example.com/books/1/reviews",
    "https://EXAMPLE.com/books/2",
    "https://example.com/Books/3",
    "https://example.com/books/%C3%A9t%C3%A9",
    "https://example.com/books/4?edition=2",
    "https://example.com/books/5#chapter-1",
    "http://example.com/books/6",
    "https://example.com:443/books/7",
    "https://example.com:8443/books/8",
    "https://example.com/authors/ann/books/12",
    "https://example.com/authors/ann/books/twelve",
    "https://news.example.org/feeds/a/b",
    "https://example.org/feeds/a",
    "/local/x",
    "/local/x/y",
    "local/z",
    "urn:isbn:0451450523",
    "not a url at all",
]


@pytest.fixture
def hub_v1(serve: Callable[..., LiveServer]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/.well-known/mercure"
    app = Flask(__name__)
    settings = HubSettings(
        publisher_key=JWT_KEY, subscriber_key=JWT_KEY, heartbeat=0, resource=url, issuer=ISSUER
    )
    mounted = hub.init_app(app, settings)
    serve(app, port)
    yield url
    mounted.close()


def node_v1_subscriber(hub_url: str, token: str) -> Iterator[NodeSubscriber]:
    node = require_node_eventsource()
    if not (HERE / "node_modules" / "urlpattern-polyfill").is_dir():
        unavailable(
            "the urlpattern-polyfill npm package",
            "run `npm install --prefix tests/interop` (make test does)",
        )
    process = subprocess.Popen(
        [node, str(HERE / "subscriber_v1.mjs"), hub_url, token, END, *PATTERNS, "--", *TOPICS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield NodeSubscriber(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_the_hub_matches_url_patterns_as_the_whatwg_implementation_does(hub_v1: str) -> None:
    reader = mint_access_token(
        JWT_KEY,
        "HS256",
        issuer=ISSUER,
        audience=hub_v1,
        subscribe=[Matcher(URLPATTERN, pattern) for pattern in PATTERNS],
    )
    publisher = mint_access_token(
        JWT_KEY, "HS256", issuer=ISSUER, audience=hub_v1, publish=[Matcher(EXACT, "*")]
    )
    for subscriber in node_v1_subscriber(hub_v1, reader):
        opened = subscriber.read()
        assert opened["open"] is True
        expected = opened["expected"]
        # The polyfill and the hub agree on a few obvious cases, whatever the rest says.
        assert "https://example.com/books/1" in expected
        assert "https://example.com/Books/3" not in expected
        with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {publisher}"}) as client:
            for number, topic in enumerate(TOPICS):
                # Every other update private: the token's grants are the same patterns.
                fields = {"topic": topic, "data": topic}
                if number % 2:
                    fields["private"] = "on"
                response = client.post(hub_v1, data=fields)
                assert response.status_code == 200, (topic, response.text)
            assert client.post(hub_v1, data={"topic": END, "data": "end"}).status_code == 200
        received = [subscriber.read()["data"] for _ in range(len(expected) + 1)]
        assert received == [*expected, "end"]
