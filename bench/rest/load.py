"""The HTTP load of one measurement: keep-alive raw-socket clients in gevent greenlets.

Each of ``concurrency`` clients holds one HTTP/1.1 connection and sends requests one after
the other (no pipelining) until the time budget or the request budget is spent; the
throughput is completed requests over elapsed seconds. Responses are read by their
``Content-Length`` (both apps under test set it); a status other than the expected one
stops the run with the response shown, so a broken app can never look fast.
The caller must have patched the process with gevent.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import gevent

Request = Callable[[int], bytes]
"""Builds the raw bytes of request number ``n`` (per client)."""


@dataclass(frozen=True)
class Scenario:
    """One kind of request, with the status every response must have."""

    name: str
    request: Request
    status: int


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class BadResponse(RuntimeError):
    """The server answered something other than the scenario's expected status."""


def get(path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/ld+json\r\n\r\n"
    ).encode()


def post(path: str, document: object, token: str) -> bytes:
    return send("POST", path, document, token)


def put(path: str, document: object, token: str) -> bytes:
    return send("PUT", path, document, token)


def patch(path: str, document: object, token: str) -> bytes:
    return send("PATCH", path, document, token, "application/merge-patch+json")


def send(
    method: str,
    path: str,
    document: object,
    token: str,
    content_type: str = "application/ld+json",
) -> bytes:
    """A request with ``document`` as its JSON body, as a signed-in client sends it."""
    body = json.dumps(document).encode()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/ld+json\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def exchange(sock: socket.socket, buffer: bytearray, request: bytes) -> tuple[int, str, bytes]:
    """Send ``request``, read one whole response; returns (status, head, body)."""
    sock.sendall(request)
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadResponse("the server closed the connection")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1")
    status = int(head[9:12])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    total = end + 4 + length
    while len(buffer) < total:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadResponse("the server closed the connection mid-body")
        buffer += chunk
    body = bytes(buffer[end + 4 : total])
    del buffer[:total]
    return status, head, body


def run(port: int, scenario: Scenario, seconds: float, concurrency: int, limit: int) -> Result:
    """Load ``127.0.0.1:port`` with ``scenario`` for at most ``seconds`` and ``limit`` requests."""
    done = 0
    deadline = 0.0

    def client(index: int) -> None:
        nonlocal done
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            buffer = bytearray()
            n = index
            while time.perf_counter() < deadline and done < limit:
                status, _, body = exchange(sock, buffer, scenario.request(n))
                if status != scenario.status:
                    raise BadResponse(
                        f"{scenario.name}: expected {scenario.status}, got {status}: {body[:300]!r}"
                    )
                done += 1
                n += concurrency

    start = time.perf_counter()
    deadline = start + seconds
    greenlets = [gevent.spawn(client, i) for i in range(concurrency)]
    gevent.joinall(greenlets, raise_error=True)
    return Result(done, time.perf_counter() - start)


def fetch(port: int, request: bytes) -> tuple[int, str, bytes]:
    """One request on a fresh connection (used to compare the two apps' answers)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        return exchange(sock, bytearray(), request)
