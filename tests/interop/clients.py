"""Run third-party Mercure clients against a hub served in the test process."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gevent
import pytest
from flask import Flask

from app import hub
from app.hub.settings import HubSettings
from tests.services import LiveServer, hs256_token, unavailable

HERE = Path(__file__).resolve().parent
JWT_KEY = "interop-tests-key-of-at-least-32-bytes!"
READ_TIMEOUT = 30.0


def token(*, publish: list[str] | None = None, subscribe: list[str] | None = None) -> str:
    """A JWT signed with this suite's key, carrying the given ``mercure`` selectors."""
    return hs256_token(JWT_KEY, publish=publish, subscribe=subscribe)


def start_hub(serve: Callable[..., LiveServer]) -> str:
    """Serve a bare Flask app with the hub mounted; return the hub URL."""
    app = Flask(__name__)
    hub.init_app(app, HubSettings(publisher_key=JWT_KEY, subscriber_key=JWT_KEY, heartbeat=0))
    return serve(app).url + "/.well-known/mercure"


def require_node_eventsource() -> str:
    """The ``node`` executable, once ``npm install`` has put ``eventsource`` here."""
    return require_node("eventsource")


def require_node(package: str) -> str:
    """The ``node`` executable, once ``npm install`` has put ``package`` here."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js", "install Node 20 (Debian's nodejs package)")
    if not (HERE / "node_modules" / package).is_dir():
        unavailable(
            f"the {package} npm package",
            "run `npm install --prefix tests/interop` (make test does)",
        )
    assert node is not None
    return node


@dataclass
class NodeSubscriber:
    """``subscriber.mjs`` in a child process; :meth:`lines` reads what it printed."""

    process: subprocess.Popen[str]

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        with gevent.Timeout(READ_TIMEOUT, AssertionError("the node subscriber went quiet")):
            line = self.process.stdout.readline()
        if not line:
            assert self.process.stderr is not None
            raise AssertionError(f"the node subscriber ended: {self.process.stderr.read()}")
        value: dict[str, Any] = json.loads(line)
        assert "error" not in value, value["error"]
        return value

    def events(self, count: int) -> list[dict[str, Any]]:
        return [self.read() for _ in range(count)]


@pytest.fixture
def node_subscriber() -> Iterator[Callable[..., NodeSubscriber]]:
    node = require_node_eventsource()
    started: list[subprocess.Popen[str]] = []

    def start(url: str, count: int, bearer: str = "-", *types: str) -> NodeSubscriber:
        process = subprocess.Popen(
            [node, str(HERE / "subscriber.mjs"), url, str(count), bearer, *types],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        subscriber = NodeSubscriber(process)
        assert subscriber.read() == {"open": True}
        return subscriber

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
