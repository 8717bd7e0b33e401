"""Run one server kind and the load generator against it, each in its own process.

:func:`measure` starts ``python -m bench.hub.serve KIND PORT`` (with ``python`` the
interpreter that has the kind's packages), waits for ``ready``, runs
``python -m bench.hub.load`` against it and returns the generator's JSON figures. The
server process is always stopped, even when the measurement fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

from bench.hub.serve import BENCH_ISSUER, BENCH_RESOURCE

ROOT = Path(__file__).resolve().parents[2]
BENCH_KEY = "bench-only-key-that-is-long-enough-for-hs256!"
TOPIC = "https://example.com/books/1"
PATTERN = "https://example.com/books/:id"
"""The 1.0 subscription of the hub-v1 kind, a URL Pattern matching :data:`TOPIC`."""


@dataclass(frozen=True)
class Kind:
    """How to reach one server kind: its interpreter and its subscribe/publish paths."""

    name: str
    python: str
    subscribe_path: str
    publish_path: str
    authenticated: bool
    v1: bool = False
    """Mercure 1.0: a URL Pattern subscription with a 1.0 access token per subscriber,
    and a 1.0 publisher token."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publisher_token() -> str:
    return jwt.encode({"mercure": {"publish": ["*"]}}, BENCH_KEY, algorithm="HS256")


def access_token(action: str, match: str, match_type: str) -> str:
    """A Mercure 1.0 access token of the bench hub's own issuer."""
    now = int(time.time())
    claims = {
        "iss": BENCH_ISSUER,
        "aud": BENCH_RESOURCE,
        "sub": "bench",
        "client_id": "bench",
        "iat": now,
        "exp": now + 3600,
        "jti": f"bench-{action}",
        "authorization_details": [
            {
                "type": "https://mercure.rocks/authorization-detail",
                "actions": [action],
                "topics": [{"match": match, "match_type": match_type}],
            }
        ],
    }
    return jwt.encode(claims, BENCH_KEY, algorithm="HS256", headers={"typ": "at+jwt"})


def kinds(peer_python: str | None, v1: bool = False) -> list[Kind]:
    """The server kinds to measure; ``v1`` adds the hub driven with Mercure 1.0."""
    quoted = TOPIC.replace(":", "%3A").replace("/", "%2F")
    found = [
        Kind("bare", sys.executable, f"/sub?topic={quoted}", "/pub", False),
        Kind(
            "hub",
            sys.executable,
            f"/.well-known/mercure?topic={quoted}",
            "/.well-known/mercure",
            True,
        ),
    ]
    if v1:
        found.append(
            Kind(
                "hub-v1",
                sys.executable,
                "/.well-known/mercure?match_urlpattern="
                + PATTERN.replace(":", "%3A").replace("/", "%2F"),
                "/.well-known/mercure",
                True,
                v1=True,
            )
        )
    if peer_python:
        found.append(
            Kind(
                "peer",
                peer_python,
                f"/.well-known/mercure?topic={quoted}",
                "/.well-known/mercure",
                True,
            )
        )
    return found


def measure(kind: Kind, subscribers: int, messages: int, burst: int) -> dict[str, object]:
    port = free_port()
    env = dict(os.environ, BENCH_JWT_KEY=BENCH_KEY, PYTHONPATH=str(ROOT))
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
        command = [
            sys.executable,
            "-m",
            "bench.hub.load",
            "--port",
            str(port),
            "--server-pid",
            str(server.pid),
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
        ]
        if kind.v1:
            command += [
                "--token",
                access_token("publish", "*", "exact"),
                "--subscriber-token",
                access_token("subscribe", PATTERN, "urlpattern"),
            ]
        elif kind.authenticated:
            command += ["--token", publisher_token()]
        started = time.perf_counter()
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"load generator failed against {kind.name}: {result.stderr[-3000:]}"
            )
        figures: dict[str, object] = json.loads(result.stdout)
        figures["kind"] = kind.name
        figures["seconds"] = round(time.perf_counter() - started, 1)
        return figures
    finally:
        server.kill()
        server.wait()
