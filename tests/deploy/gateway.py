"""Talking to a running gateway from deployment tests: tokens, publishing, subscribers.

The gateway checks users' bearer tokens with :data:`USER_KEY` (``AUTH_JWT_KEY``); books
are written as an administrator, as the shipped bookshop's rules require.

:class:`Listener` is a real SSE client (httpx + httpx-sse) reading one stream in its own
greenlet, so a test can hold many subscribers at once and wait until each has received
what it expects (with a deadline, never a timed assertion).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gevent
import gevent.event
import httpx
from httpx_sse import EventSource

from app.auth.command import mint_user_token
from app.hub.command import mint_token
from tests.deploy.servers import ROOT
from tests.services import require_postgres, unavailable

JWT_KEY = "deploy-tests-only-hub-key-of-at-least-64-bytes-for-every-hmac-alg!!"
PUBLIC_URL = "https://gateway.test"
BOOK_TOPIC = f"{PUBLIC_URL}/books/{{id}}"
PUBLISHER = mint_token(JWT_KEY, "HS256", publish=("*",))
SUBSCRIBER = mint_token(JWT_KEY, "HS256", subscribe=("*",))
USER_KEY = "deploy-tests-only-users-key-of-at-least-64-bytes-for-every-hmac-alg!"
ADMIN = mint_user_token(USER_KEY, "HS256", "admin", ("admin",), expires_in=3600)
"""An administrator's bearer token: the catalogue is theirs to change."""
WAIT = 20.0


def gateway_env(database_url: str, transport_url: str, **extra: str) -> dict[str, str]:
    """Environment of a gateway process (settings only; ports are added by the launcher)."""
    return {
        "DATABASE_URL": database_url,
        "RESOURCES_FILE": str(ROOT / "resources.yaml"),
        "MERCURE_TRANSPORT_URL": transport_url,
        "MERCURE_JWT_KEY": JWT_KEY,
        "AUTH_JWT_KEY": USER_KEY,
        "PUBLIC_URL": PUBLIC_URL,
        "FLASK_APP": "app:create_app",
        **extra,
    }


def migrate(env: Mapping[str, str]) -> None:
    """``flask db upgrade`` for the gateway configured by ``env``, as an operator runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"flask db upgrade failed:\n{result.stdout}{result.stderr}"


def sqlite_database(tmp_path: Path, template: Path | None = None) -> str:
    """URL of ``tmp_path/gateway.db``, a copy of the migrated ``template`` when given."""
    path = tmp_path / "gateway.db"
    if template is not None:
        shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the test server, dropped afterwards."""
    import psycopg

    base = require_postgres()
    name = f"deploy_{uuid.uuid4().hex[:12]}"
    admin_url = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def publish(base_url: str, topic: str, data: str, update_id: str | None = None) -> str:
    """Publish through the hub's POST endpoint (a new connection each time); return the id."""
    form = {"topic": topic, "data": data, **({"id": update_id} if update_id else {})}
    response = httpx.post(
        f"{base_url}/.well-known/mercure",
        data=form,
        headers={"Authorization": f"Bearer {PUBLISHER}"},
        timeout=WAIT,
    )
    assert response.status_code == 200, response.text
    return response.text


def create_book(base_url: str, title: str) -> dict[str, object]:
    """Create a book through the REST API as an administrator (a new connection each time)."""
    response = httpx.post(
        f"{base_url}/books",
        json={"title": title, "author": "Deploy Test"},
        headers={"Accept": "application/ld+json", "Authorization": f"Bearer {ADMIN}"},
        timeout=WAIT,
    )
    assert response.status_code == 201, response.text
    book: dict[str, object] = response.json()
    return book


class Listener:
    """One SSE subscriber on its own connection, read by a background greenlet."""

    def __init__(
        self,
        base_url: str,
        topics: Sequence[str],
        *,
        last_event_id: str | None = None,
        token: str | None = None,
        verify: bool = True,
        patterns: Sequence[str] = (),
    ) -> None:
        """``topics`` are 0.x selectors; ``patterns`` 1.0 URL Patterns (``match_urlpattern``):
        give one or the other."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(timeout=httpx.Timeout(WAIT, read=None), verify=verify)
        request = self._client.build_request(
            "GET",
            f"{base_url}/.well-known/mercure",
            params=[("topic", topic) for topic in topics]
            + [("match_urlpattern", pattern) for pattern in patterns],
            headers=headers,
        )
        self.response = self._client.send(request, stream=True)
        assert self.response.status_code == 200, self.response.read()
        self.events: list[tuple[str, str]] = []
        self.closed_by_server = False
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        try:
            for event in EventSource(self.response).iter_sse():
                self.events.append((event.id or "", event.data))
        except httpx.HTTPError:
            pass  # the server dropped the connection
        self.closed_by_server = True

    @property
    def ids(self) -> list[str]:
        return [update_id for update_id, _data in self.events]

    def wait_for(self, count: int, timeout: float = WAIT) -> list[str]:
        """The ids received, once ``count`` arrived or ``timeout`` passed (then fewer)."""
        with gevent.Timeout(timeout, False):
            while len(self.events) < count and not self._reader.dead:
                gevent.sleep(0.01)
        return self.ids

    def close(self) -> None:
        self._reader.kill()
        self.response.close()
        self._client.close()


class CurlSubscriber:
    """``curl -N`` on the hub, as the README shows it, parsed line by line."""

    def __init__(self, url: str, *options: str) -> None:
        curl = shutil.which("curl")
        if curl is None:
            unavailable("curl", "install Debian's 'curl' package")
        assert curl is not None
        self.process = subprocess.Popen(
            [curl, "-N", "-s", "-H", "Accept: text/event-stream", *options, url],
            stdout=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self.events: list[tuple[str, str]] = []
        self.opened = gevent.event.Event()
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        assert self.process.stdout is not None
        event_id, data = "", []
        for raw in self.process.stdout:
            self.opened.set()  # the hub writes a comment as soon as the stream is open
            line = raw.decode().rstrip("\r\n")
            self.lines.append(line)
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif not line and event_id:
                self.events.append((event_id, "\n".join(data)))
                event_id, data = "", []

    def wait_for(self, count: int) -> list[tuple[str, str]]:
        with gevent.Timeout(WAIT, False):
            while len(self.events) < count:
                gevent.sleep(0.01)
        return self.events

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._reader.kill()
        if self.process.stdout is not None:
            self.process.stdout.close()


def assert_http2_stream_of(curl: CurlSubscriber, create: Callable[[str], dict[str, Any]]) -> None:
    """Through ``curl`` (started with ``--http2 --include``), the subscriber gets each of two
    items ``create`` makes while its stream is open, in order, over an HTTP/2 event stream;
    ``curl`` is closed."""
    try:
        assert curl.opened.wait(WAIT)
        first = create("1")
        assert [json.loads(d)["@id"] for _i, d in curl.wait_for(1)] == [first["@id"]]
        second = create("2")
        events = curl.wait_for(2)
        assert [json.loads(data)["@id"] for _id, data in events] == [first["@id"], second["@id"]]
    finally:
        curl.close()
    status, *headers = curl.lines[: curl.lines.index("")]
    assert status.startswith("HTTP/2 200")
    assert any(h.lower().startswith("content-type: text/event-stream") for h in headers)


def assert_http2_stream_opens(curl: CurlSubscriber, front: str) -> None:
    """Through ``curl`` (started with ``--http2 --include``), the hub answers ``200`` over
    HTTP/2 and opens the event stream (its first comment); ``curl`` is closed. ``front``
    names the proxy in the message when nothing came back."""
    try:
        with gevent.Timeout(WAIT, False):
            # Until the comment that opens the stream, or curl gave up.
            while ":" not in curl.lines and curl.process.poll() is None:
                gevent.sleep(0.01)
    finally:
        curl.close()
    assert curl.lines, f"no answer through {front}"
    assert curl.lines[0].startswith("HTTP/2 200"), curl.lines[:3]
    assert ":" in curl.lines[curl.lines.index("") :]
