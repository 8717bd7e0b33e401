"""Run one server kind and the load generator against it, each in its own process.

:func:`measure` starts the server: for the gateway kinds, gunicorn as ``make run`` hosts
it (:mod:`bench.hub.gateway`); otherwise ``python -m bench.hub.serve KIND PORT`` (with
``python`` the interpreter that has the kind's packages), waiting for ``ready``. It then
runs ``python -m bench.hub.load`` against it, which reads the CPU time and memory of every
serving process (each gunicorn worker), and returns the generator's JSON figures. The
servers are always stopped, even when the measurement fails.

A Mercure 1.0 kind (:data:`GATEWAY_V1`) subscribes with a URL Pattern and a 1.0 access
token and publishes with a 1.0 token, each naming in ``aud`` the resource identifier the
gateway gives in its metadata document and, in ``iss``, its ``MERCURE_ISSUER`` (default:
that identifier).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt

from bench.hub.gateway import running_gateway

ROOT = Path(__file__).resolve().parents[2]
BENCH_KEY = "bench-only-key-that-is-long-enough-for-hs256!"
TOPIC = "https://example.com/books/1"
PATTERN = "https://example.com/books/:id"
"""The 1.0 subscription of :data:`GATEWAY_V1`, a URL Pattern matching :data:`TOPIC`."""


@dataclass(frozen=True)
class Kind:
    """How to reach one server kind: its interpreter and its subscribe/publish paths.

    ``workers`` > 0 means the gateway under gunicorn with that many workers and the
    ``transport`` (``memory`` or ``redis``); 0 a server of :mod:`bench.hub.serve`.
    """

    name: str
    python: str
    subscribe_path: str
    publish_path: str
    authenticated: bool
    workers: int = 0
    transport: str = "memory"
    v1: bool = False
    """Mercure 1.0: a URL Pattern subscription with a 1.0 access token, and a 1.0
    publisher token."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publisher_token() -> str:
    return jwt.encode({"mercure": {"publish": ["*"]}}, BENCH_KEY, algorithm="HS256")


def access_token(resource: str, issuer: str, action: str, match: str, match_type: str) -> str:
    """A Mercure 1.0 access token for the hub of ``resource``, signed with its own key."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": resource,
        "sub": "bench",
        "client_id": "bench",
        "iat": now,
        "exp": now + 3600,
        "jti": f"bench-{action}-{now}",
        "authorization_details": [
            {
                "type": "https://mercure.rocks/authorization-detail",
                "actions": [action],
                "topics": [{"match": match, "match_type": match_type}],
            }
        ],
    }
    return jwt.encode(claims, BENCH_KEY, algorithm="HS256", headers={"typ": "at+jwt"})


def _quoted(value: str) -> str:
    return value.replace(":", "%3A").replace("/", "%2F")


HUB_PATH = "/.well-known/mercure"
METADATA_PATH = "/.well-known/oauth-protected-resource" + HUB_PATH
QUOTED_TOPIC = _quoted(TOPIC)
GATEWAY = Kind("gateway", sys.executable, f"{HUB_PATH}?topic={QUOTED_TOPIC}", HUB_PATH, True, 1)
GATEWAY_V1 = Kind(
    "gateway-v1",
    sys.executable,
    f"{HUB_PATH}?match_urlpattern={_quoted(PATTERN)}",
    HUB_PATH,
    True,
    1,
    v1=True,
)
FLOOR = Kind("floor", sys.executable, f"/?topic={QUOTED_TOPIC}", "/", False)


def gateway_kind(workers: int, transport: str) -> Kind:
    """The gateway under gunicorn with ``workers`` workers over ``transport``."""
    name = "gateway" if (workers, transport) == (1, "memory") else f"gateway-{transport}-{workers}"
    return Kind(name, sys.executable, GATEWAY.subscribe_path, HUB_PATH, True, workers, transport)


def baselines(peer_python: str | None) -> list[Kind]:
    """The first round's baselines: the built-in hub alone on pywsgi, the bare gevent
    server and, when installed, flask-mercure-sse."""
    found = [
        Kind("bare", sys.executable, f"/sub?topic={QUOTED_TOPIC}", "/pub", False),
        Kind("hub", sys.executable, GATEWAY.subscribe_path, HUB_PATH, True),
    ]
    if peer_python:
        found.append(Kind("peer", peer_python, GATEWAY.subscribe_path, HUB_PATH, True))
    return found


@contextmanager
def _server(kind: Kind, env: dict[str, str]) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Start ``kind``; yield its port and the ids of its serving processes."""
    if kind.workers:
        with running_gateway(BENCH_KEY, kind.workers, kind.transport) as gateway:
            yield gateway.port, gateway.workers
        return
    port = free_port()
    server = subprocess.Popen(
        [kind.python, "-m", "bench.hub.serve", kind.name, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        printed = []
        for line in server.stdout:  # servers may print banners before "ready"
            if line.strip() == "ready":
                break
            printed.append(line)
        else:
            _, err = server.communicate(timeout=5)
            raise RuntimeError(f"{kind.name} server did not start: {''.join(printed)}{err[-2000:]}")
        yield port, (server.pid,)
    finally:
        server.kill()
        server.wait()


def measure(
    kind: Kind, subscribers: int, messages: int, burst: int, readers: str = "gevent"
) -> dict[str, object]:
    env = dict(os.environ, BENCH_JWT_KEY=BENCH_KEY, PYTHONPATH=str(ROOT))
    with _server(kind, env) as (port, pids):
        command = [
            sys.executable,
            "-m",
            "bench.hub.load",
            "--port",
            str(port),
            "--server-pid",
            *(str(pid) for pid in pids),
            "--subscribe-path",
            kind.subscribe_path,
            "--publish-path",
            kind.publish_path,
            "--topic",
            TOPIC,
            "--subscribers",
            str(subscribers),
            "--messages",
            str(messages),
            "--burst",
            str(burst),
            "--readers",
            readers,
        ]
        if kind.v1:
            resource = _resource(port)
            issuer = env.get("MERCURE_ISSUER") or resource
            command += [
                "--token",
                access_token(resource, issuer, "publish", "*", "exact"),
                "--subscriber-token",
                access_token(resource, issuer, "subscribe", PATTERN, "urlpattern"),
            ]
        elif kind.authenticated:
            command += ["--token", publisher_token()]
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"load generator failed against {kind.name}: {result.stderr[-3000:]}"
            )
        figures: dict[str, object] = json.loads(result.stdout)
        figures["kind"] = kind.name
        figures["workers"] = len(pids)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        return figures


def _resource(port: int) -> str:
    """The resource identifier the hub on ``port`` announces (the ``aud`` of 1.0 tokens)."""
    try:
        response = httpx.get(f"http://127.0.0.1:{port}{METADATA_PATH}", timeout=10)
        response.raise_for_status()
        return str(response.json()["resource"])
    except (httpx.HTTPError, ValueError, KeyError) as error:
        raise RuntimeError(f"no 1.0 metadata document at {METADATA_PATH}: {error}") from error
