"""The SSE stream's life: first flush, heartbeats, lifetime, token expiry, slow and gone clients."""

from __future__ import annotations

import socket
from collections.abc import Callable

import gevent
import httpx

from app.hub import Hub
from app.hub.update import Update
from tests.hub.conftest import PUBLISHER, token
from tests.hub.sse_client import Subscription, publish

BOOK = "https://example.com/books/1"
LiveHub = Callable[..., tuple[str, Hub]]


def _wait_until(condition: Callable[[], bool], attempts: int = 500) -> bool:
    """Let the server's greenlets run until ``condition`` holds (bounded, never timed)."""
    for _ in range(attempts):
        if condition():
            return True
        gevent.sleep(0.01)
    return condition()


def _active(hub: Hub) -> int:
    return len(hub.transport.subscribers()[1])


def _stalled_reader_is_dropped(url: str, hub: Hub) -> bool:
    """Subscribe, stop reading, publish far more than socket buffers hold: whether the
    hub then drops the subscriber."""
    sock = _raw_subscribe(url)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        assert sock.recv(10)
        assert _wait_until(lambda: _active(hub) == 1)
        big = "x" * 65536
        for n in range(400):
            hub.publish(Update((BOOK,), data=big, id=str(n)))
            gevent.sleep(0)
        return _wait_until(lambda: _active(hub) == 0)
    finally:
        sock.close()


def _raw_subscribe(url: str, topic: str = BOOK) -> socket.socket:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    sock = socket.create_connection((host, int(port)))
    sock.settimeout(5)
    sock.sendall(
        f"GET /.well-known/mercure?topic={topic} HTTP/1.1\r\nHost: {host_port}\r\n\r\n".encode()
    )
    return sock


def test_headers_and_a_comment_are_sent_at_once(live_hub: LiveHub) -> None:
    url, _hub = live_hub()
    sock = _raw_subscribe(url)
    try:
        received = b""
        while b"\r\n\r\n" not in received or not received.endswith(b":\n\r\n"):
            chunk = sock.recv(4096)
            assert chunk, f"stream closed early: {received!r}"
            received += chunk
        head, body = received.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"Content-Type: text/event-stream" in head
        assert body == b"2\r\n:\n\r\n"
    finally:
        sock.close()


def test_heartbeat_comments_keep_an_idle_stream_alive(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub(heartbeat=0.05)
    with Subscription(client, url, [BOOK]) as sub:
        lines = sub.response.iter_lines()
        assert [next(lines) for _ in range(3)] == [":", ":", ":"]


def test_stream_ends_after_its_lifetime(live_hub: LiveHub, client: httpx.Client) -> None:
    url, hub = live_hub(write_timeout=0.2)
    with Subscription(client, url, [BOOK]) as sub:
        assert sub.response.read() == b":\n"
    assert _wait_until(lambda: _active(hub) == 0)


def test_stream_ends_when_the_token_expires(live_hub: LiveHub, client: httpx.Client) -> None:
    url, hub = live_hub(write_timeout=600.0)
    short = token(subscribe=("*",), expires_in=1.5)
    with Subscription(client, url, [BOOK], headers={"Authorization": f"Bearer {short}"}) as sub:
        assert sub.response.read() == b":\n"
    assert _wait_until(lambda: _active(hub) == 0)


def test_a_client_that_hangs_up_is_removed_promptly(live_hub: LiveHub) -> None:
    url, hub = live_hub(heartbeat=0.0)
    sock = _raw_subscribe(url)
    assert sock.recv(4096)
    assert _wait_until(lambda: _active(hub) == 1)
    sock.close()
    # No heartbeat and no publication: only the read watcher can notice.
    assert _wait_until(lambda: _active(hub) == 0)


def test_a_subscriber_that_cannot_keep_up_is_disconnected(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, hub = live_hub(queue_size=5, dispatch_timeout=60.0)
    # Socket buffers fill, then the queue of five overflows long before the write deadline.
    assert _stalled_reader_is_dropped(url, hub)
    # Publishing goes on for everybody else.
    with Subscription(client, url, [BOOK]) as fresh:
        assert publish(client, url, PUBLISHER, topic=BOOK, id="next").status_code == 200
        assert fresh.next_event().id == "next"


def test_large_frames_arrive_whole_and_in_order(live_hub: LiveHub, client: httpx.Client) -> None:
    url, hub = live_hub()
    with Subscription(client, url, [BOOK]) as sub:
        assert _wait_until(lambda: _active(hub) == 1)
        payloads = [f"{n}:" + "y" * (n * 997 % 150_000) for n in range(60)]
        for n, payload in enumerate(payloads):
            hub.publish(Update((BOOK,), data=payload, id=str(n)))
            if n % 7 == 0:
                gevent.sleep(0)
        events = sub.events(len(payloads))
        assert [e.id for e in events] == [str(n) for n in range(len(payloads))]
        assert [e.data for e in events] == payloads


def test_a_client_that_stops_reading_hits_the_write_deadline(live_hub: LiveHub) -> None:
    url, hub = live_hub(dispatch_timeout=0.2, queue_size=10_000)
    # The queue holds everything: only the write deadline can end the stream.
    assert _stalled_reader_is_dropped(url, hub)


def test_hub_close_ends_streams(live_hub: LiveHub, client: httpx.Client) -> None:
    url, hub = live_hub()
    with Subscription(client, url, [BOOK]) as sub:
        assert _wait_until(lambda: _active(hub) == 1)
        hub.close()
        assert sub.response.read() == b":\n"


def _read_until(sock: socket.socket, marker: bytes, received: bytes = b"") -> bytes:
    while marker not in received:
        chunk = sock.recv(65536)
        assert chunk, f"stream closed early: {received[-200:]!r}"
        received += chunk
    return received


def _dechunk(body: bytes) -> tuple[bytes, bytes]:
    """The payload of the complete chunks at the start of ``body``, and what is left."""
    payload = b""
    while b"\r\n" in body:
        size_line, rest = body.split(b"\r\n", 1)
        size = int(size_line, 16)
        if len(rest) < size + 2:
            break
        assert rest[size : size + 2] == b"\r\n", f"chunk of {size} bytes not closed"
        payload += rest[:size]
        body = rest[size + 2 :]
    return payload, body


def test_http10_subscribers_get_frames_without_chunk_framing(live_hub: LiveHub) -> None:
    url, hub = live_hub()
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    sock = socket.create_connection(tuple(host_port.split(":")))  # type: ignore[arg-type]
    sock.settimeout(5)
    try:
        sock.sendall(f"GET /.well-known/mercure?topic={BOOK} HTTP/1.0\r\n\r\n".encode())
        received = _read_until(sock, b"\r\n\r\n:\n")
        assert b"Transfer-Encoding" not in received.split(b"\r\n\r\n")[0]
        assert _wait_until(lambda: _active(hub) == 1)
        hub.publish(Update((BOOK,), data="one", id="1"))
        hub.publish(Update((BOOK,), data="two", id="2"))
        received = _read_until(sock, b"data: two\n\n", received)
        assert received.split(b"\r\n\r\n", 1)[1] == b":\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n"
    finally:
        sock.close()


def test_a_slow_reader_gets_every_frame_whole_in_order_and_well_chunked(
    live_hub: LiveHub,
) -> None:
    # Frames the socket cannot take at once are finished by the stream's greenlet while
    # more are queued: the body must stay a valid chunked body with every frame in order.
    url, hub = live_hub(queue_size=10_000, dispatch_timeout=30.0)
    sock = _raw_subscribe(url)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        received = _read_until(sock, b"\r\n\r\n")
        assert _wait_until(lambda: _active(hub) == 1)
        payloads = [f"{n}:" + "z" * (n * 7919 % 40_000) for n in range(120)]
        for n, payload in enumerate(payloads):
            hub.publish(Update((BOOK,), data=payload, id=str(n)))
            if n % 5 == 0:
                gevent.sleep(0)
        body = received.split(b"\r\n\r\n", 1)[1]
        expected = b":\n" + b"".join(
            f"id: {n}\ndata: {payload}\n\n".encode() for n, payload in enumerate(payloads)
        )
        payload = b""
        while len(payload) < len(expected):
            gevent.sleep(0.001)  # a slow reader
            chunk = sock.recv(8192)
            assert chunk, "stream closed early"
            more, body = _dechunk(body + chunk)
            payload += more
        assert payload == expected
    finally:
        sock.close()
