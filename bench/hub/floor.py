"""The raw floor: the cheapest fan-out one gevent process can do, speaking just enough Mercure.

No HTTP framework, no authorization, no history, no matching beyond one exact topic: a
``GET`` (any path) with ``topic`` parameters answers SSE headers and ``:`` on the raw
socket and then writes every frame queued for it with ``sendall``; a ``POST`` reads the
form fields ``topic`` and ``data``, encodes one frame and puts it on the queue of every
subscriber of each topic (bounded queues; a full one skips the frame), then answers the
update's id and closes. One greenlet and one :class:`gevent.queue.Queue` per subscriber,
one greenlet switch and one ``sendall`` per delivery.

On the benchmarks' machine kind its server CPU time per delivery is about the reference
Go hub's pinned to one core (measured side by side at 1,000 and 5,000 subscribers), so it
stands in for the reference hub: ``python -m bench.hub`` runs it beside the gateway and
reports the gateway's figures as ratios to it. Served by :mod:`bench.hub.serve`
(``python -m bench.hub.serve floor PORT``).
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from gevent.queue import Queue

QUEUE_SIZE = 1000
subscribers: dict[str, set[Queue]] = {}


def handle(sock: Any, _address: object) -> None:
    """Serve one connection: one request, then close (subscriptions last until EOF)."""
    reader = sock.makefile("rb")
    method, target, _ = reader.readline().decode().split(" ", 2)
    headers = {}
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    _path, _, query = target.partition("?")
    if method == "GET":
        subscribe(sock, urllib.parse.parse_qs(query).get("topic", []))
        return
    length = int(headers.get("content-length", "0"))
    form = urllib.parse.parse_qs(reader.read(length).decode())
    update_id = f"urn:uuid:{uuid.uuid4()}"
    data = form.get("data", [""])[0]
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    frame = f"id: {update_id}\n{lines}\n".encode()
    for topic in form.get("topic", []):
        for queue in list(subscribers.get(topic, ())):
            if not queue.full():
                queue.put_nowait(frame)
    body = update_id.encode()
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    sock.close()


def subscribe(sock: Any, topics: list[str]) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n:\n"
    )
    queue: Queue = Queue(QUEUE_SIZE)
    for topic in topics:
        subscribers.setdefault(topic, set()).add(queue)
    try:
        while True:
            sock.sendall(queue.get())
    except OSError:
        pass
    finally:
        for topic in topics:
            subscribers.get(topic, set()).discard(queue)
