"""The baseline: a naive bare gevent fan-out server, the practical limit of the approach.

One pywsgi handler greenlet and one unbounded :class:`gevent.queue.Queue` per subscriber,
one exact topic, no authorization, no history, no template matching. ``GET /sub`` streams
Server-Sent Events (``:`` first, so headers leave at once); ``POST /pub`` with the form
fields ``topic`` and ``data`` frames the event once and puts it on every queue of that
topic. Served by :mod:`bench.hub.serve` (``python -m bench.hub.serve bare PORT``).
"""

from collections.abc import Callable, Iterator
from urllib.parse import parse_qs
from uuid import uuid4

from gevent.queue import Queue

StartResponse = Callable[[str, list[tuple[str, str]]], object]

subscribers: dict[str, set[Queue]] = {}


def stream(queue: Queue, topic: str) -> Iterator[bytes]:
    try:
        yield b":\n"
        while True:
            yield queue.get()
    finally:
        subscribers[topic].discard(queue)


def application(environ: dict[str, object], start_response: StartResponse) -> Iterator[bytes]:
    path = environ["PATH_INFO"]
    if path == "/sub":
        topic = parse_qs(str(environ.get("QUERY_STRING", ""))).get("topic", [""])[0]
        queue: Queue = Queue()
        subscribers.setdefault(topic, set()).add(queue)
        start_response(
            "200 OK", [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
        )
        return stream(queue, topic)
    if path == "/pub":
        body = environ["wsgi.input"].read().decode()  # type: ignore[attr-defined]
        form = parse_qs(body, keep_blank_values=True)
        topic, data = form["topic"][0], form.get("data", [""])[0]
        event_id = f"urn:uuid:{uuid4()}"
        frame = f"id: {event_id}\ndata: {data}\n\n".encode()
        for queue in tuple(subscribers.get(topic, ())):
            queue.put(frame)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([event_id.encode()])
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return iter([b"not found"])
