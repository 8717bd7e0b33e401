"""Size limits of REST writes, on the shipped bookshop served by a real gevent server.

``MAX_BODY_SIZE`` refuses a body with 413 problem+json before reading it (an announced
``Content-Length``) or as soon as it passes the limit (a chunked body): the raw-socket
tests send the headers, or one byte past the limit, and get the answer without sending
the rest. ``MERCURE_MAX_UPDATE_SIZE`` refuses a write whose Mercure update the hub would
not take, before the commit: nothing is stored, written to the outbox or published.
Both run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from app import create_app
from app.auth.command import mint_user_token
from app.auth.settings import AuthSettings
from app.config import load_resources
from app.hub import EXTENSION_KEY as HUB_KEY
from app.hub import Hub
from app.hub.settings import HubSettings
from app.hub.transport.memory import MemoryTransport
from app.settings import DEFAULT_MAX_BODY_SIZE, Settings, SettingsError
from tests.services import LiveServer

ROOT = Path(__file__).resolve().parents[2]
HUB_KEY_SECRET = "size-limit-tests-hub-key-of-at-least-32-bytes!"
USER_KEY = "size-limit-tests-users-key-of-at-least-32-bytes"
ADMIN_TOKEN = mint_user_token(USER_KEY, "HS256", "admin", ("admin",), expires_in=3600)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
JSONLD = "application/ld+json"
PROBLEM = "application/problem+json"
BODY_LIMIT = 4096
UPDATE_LIMIT = 2048


@dataclass
class Shop:
    app: Flask
    live: LiveServer
    http: httpx.Client

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.extensions[HUB_KEY]
        return hub

    @property
    def history(self) -> MemoryTransport:
        transport = self.hub.transport
        assert isinstance(transport, MemoryTransport)
        return transport

    def outbox_rows(self, containing: str = "") -> int:
        """Outbox rows whose data contains ``containing`` (relayed rows are deleted
        later, by the relay's greenlet)."""
        registry = self.app.extensions["model_registry"]
        table = registry.outbox_table
        with self.app.app_context():
            count = sa.select(sa.func.count()).where(table.c.data.contains(containing))
            return int(registry.db.session.execute(count).scalar_one())

    def raw(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send ``request`` on a new connection; the answer's status, headers and body.

        The connection is left open while the answer is read: a server that waited for
        the rest of the body would never answer (and the read times out)."""
        with socket.create_connection(("127.0.0.1", self.live.port), timeout=10) as sock:
            sock.sendall(request)
            return _read_response(sock)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a complete answer: {received!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines)
    }
    length = int(headers["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed in the middle of the answer"
        body += chunk
    return int(status_line.split()[1]), headers, body[:length]


@pytest.fixture
def shop(database_url: str, serve: Callable[..., LiveServer]) -> Iterator[Shop]:
    """The bookshop on each kind of database, with small limits."""
    settings = Settings(
        database_url=database_url,
        public_url="http://shop.test",
        max_body_size=BODY_LIMIT,
    )
    hub_settings = HubSettings(
        publisher_key=HUB_KEY_SECRET,
        subscriber_key=HUB_KEY_SECRET,
        heartbeat=0,
        max_update_size=UPDATE_LIMIT,
    )
    app = create_app(
        settings,
        spec=load_resources(ROOT / "resources.yaml"),
        hub_settings=hub_settings,
        auth_settings=AuthSettings(key=USER_KEY),
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    live = serve(app)
    with httpx.Client(base_url=live.url, timeout=10, headers=ADMIN) as http:
        yield Shop(app, live, http)
    app.extensions["mercure_publisher"].close()
    app.extensions[HUB_KEY].close()
    with app.app_context():
        app.extensions["model_registry"].db.engine.dispose()


def _book(description_length: int) -> dict[str, Any]:
    return {"title": "Big", "author": "Someone", "description": "d" * description_length}


def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    detail: str = body["detail"]
    return detail


def _request_head(method: str, path: str, *headers: str) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: shop.test",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# -- MAX_BODY_SIZE --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, DEFAULT_MAX_BODY_SIZE),
        ("", DEFAULT_MAX_BODY_SIZE),
        ("2048", 2048),
        (" 512KiB ", 512 << 10),
        ("4mib", 4 << 20),
        ("1GiB", 1 << 30),
    ],
)
def test_max_body_size_setting(raw: str | None, expected: int) -> None:
    environ = {} if raw is None else {"MAX_BODY_SIZE": raw}
    assert Settings.from_env(environ).max_body_size == expected


@pytest.mark.parametrize("raw", ["0", "1MB", "lots", "-5", "1.5MiB", "9" * 40])
def test_unusable_max_body_size_is_refused_by_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="MAX_BODY_SIZE"):
        Settings.from_env({"MAX_BODY_SIZE": raw})


def test_default_body_limit_is_one_mebibyte() -> None:
    assert Settings().max_body_size == 1 << 20


def test_body_at_the_limit_is_read(shop: Shop) -> None:
    body = json.dumps(_book(0)).encode()
    padded = body[:-1] + b" " * (BODY_LIMIT - len(body)) + b"}"
    assert len(padded) == BODY_LIMIT
    response = shop.http.post("/books", content=padded, headers={"Content-Type": JSONLD})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/books", JSONLD),
        ("PUT", "/books/1", JSONLD),
        ("PATCH", "/books/1", "application/merge-patch+json"),
    ],
)
def test_announced_body_over_the_limit_is_refused_before_it_is_sent(
    shop: Shop, method: str, path: str, content_type: str
) -> None:
    assert shop.http.post("/books", json=_book(10)).status_code == 201
    announced = 20_000_000
    status, headers, body = shop.raw(
        _request_head(method, path, f"Content-Type: {content_type}", f"Content-Length: {announced}")
    )
    assert status == 413
    assert headers["content-type"] == PROBLEM
    problem = json.loads(body)
    assert problem["title"] == "Content Too Large"
    assert problem["detail"] == (
        f"The request body of {announced} bytes is larger than the limit of {BODY_LIMIT} "
        "bytes set by MAX_BODY_SIZE."
    )
    assert shop.http.get("/books/1").json()["description"] == "d" * 10


def test_chunked_body_is_refused_once_past_the_limit(shop: Shop) -> None:
    chunk = b"[" * 1000
    sent = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(BODY_LIMIT // 1000 + 1))
    status, headers, body = shop.raw(
        _request_head("POST", "/books", f"Content-Type: {JSONLD}", "Transfer-Encoding: chunked")
        + sent  # no terminating chunk: the answer comes without the end of the body
    )
    assert status == 413
    assert headers["content-type"] == PROBLEM
    assert json.loads(body)["detail"] == (
        f"The request body is larger than the limit of {BODY_LIMIT} bytes set by MAX_BODY_SIZE."
    )


def test_chunked_body_within_the_limit_is_read(shop: Shop) -> None:
    body = json.dumps(_book(1000)).encode()  # over one chunk, under both limits
    chunks = [body[i : i + 500] for i in range(0, len(body), 500)]
    framed = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    status, _headers, answer = shop.raw(
        _request_head("POST", "/books", f"Content-Type: {JSONLD}", "Transfer-Encoding: chunked")
        + framed
    )
    assert status == 201, answer
    assert json.loads(answer)["description"] == "d" * 1000


def test_body_limit_comes_after_authentication(shop: Shop) -> None:
    response = httpx.post(
        f"{shop.live.url}/books",
        content=b"x" * (BODY_LIMIT + 1),
        headers={"Content-Type": JSONLD},
    )
    _problem(response, 401)


# -- MERCURE_MAX_UPDATE_SIZE ----------------------------------------------------------------


def test_write_whose_update_is_too_large_is_refused_before_commit(shop: Shop) -> None:
    response = shop.http.post("/books", json=_book(UPDATE_LIMIT))
    detail = _problem(response, 413)
    assert "MERCURE_MAX_UPDATE_SIZE" in detail
    assert f"more than the limit of {UPDATE_LIMIT} bytes" in detail
    assert "http://shop.test/books/1" in detail
    assert shop.http.get("/books").json()["totalItems"] == 0
    assert shop.outbox_rows() == 0
    assert shop.history.kept_bytes == 0
    assert shop.hub.transport.subscribers()[0] == "earliest"  # nothing was dispatched


def test_update_too_large_leaves_the_stored_item_unchanged(shop: Shop) -> None:
    created = shop.http.post("/books", json=_book(100))
    assert created.status_code == 201, created.text
    published = shop.history.kept_bytes
    assert 0 < published <= UPDATE_LIMIT
    too_large = shop.http.patch(
        "/books/1",
        json={"description": "e" * UPDATE_LIMIT},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert "MERCURE_MAX_UPDATE_SIZE" in _problem(too_large, 413)
    replaced = shop.http.put("/books/1", json={**_book(0), "description": "e" * UPDATE_LIMIT})
    assert "MERCURE_MAX_UPDATE_SIZE" in _problem(replaced, 413)
    assert shop.http.get("/books/1").json()["description"] == "d" * 100
    assert shop.outbox_rows(containing="eeee") == 0
    assert shop.history.kept_bytes == published
    # The connection pool is sound after the refused commits: a write that fits passes.
    fits = shop.http.patch(
        "/books/1",
        json={"description": "f"},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert fits.status_code == 200, fits.text
    assert shop.history.kept_bytes > published
