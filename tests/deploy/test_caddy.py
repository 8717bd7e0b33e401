"""deploy/Caddyfile, as shipped, in front of the gateway: TLS from Caddy's local authority,
HTTP/2 to the client, SSE streamed through without buffering, plain HTTP redirected.

The shipped file takes every value from the environment (``CADDY_*``); the test sets the
ports and points the upstream at a gateway on a loopback port, nothing else.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from flask import Flask

from app import create_app
from tests.deploy.gateway import (
    ADMIN,
    WAIT,
    CurlSubscriber,
    assert_http2_stream_of,
    assert_http2_stream_opens,
    gateway_env,
)
from tests.deploy.servers import caddy, caddy_root, gunicorn, running
from tests.services import LiveServer, free_port


@pytest.fixture
def gateway(database_url: str, serve: object) -> Iterator[tuple[LiveServer, int]]:
    """The gateway (in-memory transport) whose public origin is Caddy's, and Caddy's port."""
    https_port = free_port()
    env = gateway_env(database_url, "memory://", PUBLIC_URL=f"https://localhost:{https_port}")
    application: Flask = create_app(environ=env)
    try:
        yield serve(application), https_port  # type: ignore[operator]
    finally:
        application.extensions["mercure_hub"].close()


def test_caddy_serves_http2_with_local_tls_and_streams_events_unbuffered(
    tmp_path: Path, gateway: tuple[LiveServer, int]
) -> None:
    upstream, https_port = gateway
    http_port = free_port()
    env = {
        "CADDY_SITE": f"localhost:{https_port}",
        "CADDY_HTTP_PORT": str(http_port),
        "CADDY_UPSTREAM": f"127.0.0.1:{upstream.port}",
    }
    base = f"https://localhost:{https_port}"
    with running(caddy(tmp_path, env, https_port)):
        root = str(caddy_root(tmp_path))
        # The certificate is the local authority's: verified, not ignored.
        with httpx.Client(verify=trusting(root), timeout=WAIT) as client:
            docs = client.get(f"{base}/docs.jsonld")
            assert docs.status_code == 200
            assert docs.json()["@type"] == "ApiDocumentation"

        # Plain HTTP is redirected to HTTPS.
        redirect = httpx.get(f"http://localhost:{http_port}/books")
        assert redirect.status_code in (301, 308)
        assert redirect.headers["Location"] == f"{base}/books"

        # A subscriber through Caddy, over HTTP/2, gets each event while the stream is open.
        topic = quote(f"{base}/books/{{id}}", safe="")
        curl = CurlSubscriber(
            f"{base}/.well-known/mercure?topic={topic}", "--http2", "--cacert", root, "--include"
        )
        assert_http2_stream_of(curl, lambda n: create(base, root, f"Through Caddy {n}"))


def trusting(root: str) -> ssl.SSLContext:
    """A TLS context that trusts the certificate authority ``root`` only."""
    return ssl.create_default_context(cafile=root)


def create(base: str, root: str, title: str) -> dict[str, object]:
    with httpx.Client(verify=trusting(root)) as client:
        response = client.post(
            f"{base}/books",
            json={"title": title, "author": "Caddy"},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    assert response.status_code == 201, response.text
    book: dict[str, object] = response.json()
    return book


def test_caddy_passes_subscribe_urls_with_1000_topics(tmp_path: Path, database_url: str) -> None:
    """A subscribe URL with the hub's 1000 topics (about 40 KB) gets through Caddy, over
    HTTP/2, to gunicorn run with LIMIT_REQUEST_LINE=0 as the Caddyfile says: the stream
    starts."""
    https_port = free_port()
    public = f"https://localhost:{https_port}"
    env = {
        **gateway_env(database_url, "memory://", PUBLIC_URL=public),
        "LIMIT_REQUEST_LINE": "0",
    }
    with running(gunicorn(tmp_path, env, workers=1)) as upstream:
        front = {
            "CADDY_SITE": f"localhost:{https_port}",
            "CADDY_HTTP_PORT": str(free_port()),
            "CADDY_UPSTREAM": f"127.0.0.1:{upstream.port}",
        }
        with running(caddy(tmp_path, front, https_port)):
            query = urlencode([("topic", f"{public}/books/{n}") for n in range(1000)])
            assert len(query) > 40_000
            root = str(caddy_root(tmp_path))
            curl = CurlSubscriber(
                f"{public}/.well-known/mercure?{query}", "--http2", "--cacert", root, "--include"
            )
            assert_http2_stream_opens(curl, "Caddy")
