"""The body of one SSE response: frames out, heartbeats, deadlines, clean-up.

:class:`SubscriberStream` is the WSGI iterable returned for a subscription (served with
``direct_passthrough``, so the WSGI server iterates it directly). It runs in the
connection's own greenlet:

* the first chunk is ``:\\n`` (plus any history already queued), written at once so the
  client sees the headers and fires ``onopen``;
* every wake-up drains *all* queued frames into one write;
* a heartbeat comment ``:\\n`` follows ``heartbeat`` seconds of silence (0 disables it);
* the stream ends at ``ends_at`` (the randomised connection lifetime or the token's
  ``exp``, whichever comes first) and when the subscriber is disconnected (overflow,
  hub shutdown);
* each write must finish within ``write_deadline`` seconds, else the connection is dropped
  as if the peer had gone (``EPIPE``, which the gevent server closes quietly); a
  subscriber whose queue overflows is dropped the same way, at once, even in the middle
  of a blocked write;
* when the WSGI server can give us the client socket, a libev read watcher notices a
  client that hangs up while idle, so its subscriber is removed at once rather than at
  the next heartbeat;
* frames are never written from the publisher's greenlet: waking the connection's
  greenlet lets every frame queued meanwhile go out in one write, which measured
  faster under load than one non-blocking ``send`` per frame and subscriber.

:meth:`close` (called by the WSGI server, also for ``HEAD`` and aborted responses) runs
the ``on_close`` clean-up exactly once.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

from gevent import Timeout, get_hub, getcurrent

from app.hub.sse import COMMENT
from app.hub.subscriber import Subscriber

__all__ = [
    "SubscriberDropped",
    "SubscriberStream",
    "client_socket",
    "disable_nagle",
]


class SubscriberDropped(BrokenPipeError):
    """The connection of a subscriber that cannot keep up is aborted.

    Raised out of the response iterable as ``EPIPE``, so the WSGI server drops the
    connection quietly instead of writing the end of the body to a peer that does not read.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(errno.EPIPE, f"slow subscriber dropped: {reason}")


def client_socket(environ: dict[str, Any]) -> Any | None:
    """The client's socket when the WSGI server exposes it (gunicorn, gevent), else ``None``."""
    sock = environ.get("gunicorn.socket") or environ.get("gunicorn.sock")
    if sock is not None:
        return sock
    rfile = getattr(environ.get("wsgi.input"), "rfile", None)
    return getattr(getattr(rfile, "raw", None), "_sock", None)


def disable_nagle(sock: Any | None) -> None:
    """Send small writes at once on ``sock`` (``TCP_NODELAY``), as Go's server does.

    The gevent server writes headers and body separately; with Nagle's algorithm the
    second small write waits for the peer's delayed ACK (about 40 ms), which would delay
    every publish answer and every SSE frame written right after another.
    """
    if sock is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class SubscriberStream:
    """Iterates the SSE chunks of one subscriber until it must end."""

    def __init__(
        self,
        subscriber: Subscriber,
        *,
        on_close: Callable[[], None],
        heartbeat: float = 0.0,
        ends_at: float | None = None,
        write_deadline: float = 0.0,
        sock: Any | None = None,
    ) -> None:
        self.subscriber = subscriber
        self._on_close: Callable[[], None] | None = on_close
        self._heartbeat = heartbeat
        self._ends_at = ends_at
        self._write_deadline = write_deadline
        # The OS-level non-blocking socket under gevent's wrapper: peeking it never blocks.
        self._raw: Any | None = getattr(sock, "_sock", None)
        self._watcher: Any | None = None
        self._peer_readable = False
        self._writing = False
        self._greenlet: Any | None = None
        self._generator: Generator[bytes, None, None] | None = None

    def __iter__(self) -> Iterator[bytes]:
        if self._generator is None:
            self._generator = self._chunks()
        return self._generator

    def close(self) -> None:
        """End the stream and run the clean-up (idempotent)."""
        if self._generator is not None:
            self._generator.close()
        self._stop_watching()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def _interrupt(self) -> None:
        """On disconnect: abort a write in progress (the peer may never read again)."""
        if self._writing:
            get_hub().loop.run_callback(self._abort_write)

    def _abort_write(self) -> None:
        greenlet = self._greenlet
        if self._writing and greenlet is not None and not greenlet.dead:
            greenlet.throw(SubscriberDropped("disconnected during a write"))

    # -- peer watching -------------------------------------------------------------------

    def _watch_peer(self) -> None:
        raw = self._raw
        if raw is None:
            return
        try:
            watcher = get_hub().loop.io(raw.fileno(), 1)
        except (OSError, ValueError):
            return
        watcher.start(self._on_readable)
        self._watcher = watcher

    def _on_readable(self) -> None:
        # Runs in the event loop: only flag it and wake the stream's greenlet.
        self._peer_readable = True
        self._stop_watching()
        self.subscriber.wake()

    def _stop_watching(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
            watcher.close()

    def _peer_gone(self) -> bool:
        """Whether the readable client socket is at end of file (or broken)."""
        self._peer_readable = False
        if self._raw is None:
            return False
        try:
            data = self._raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            self._watch_peer()
            return False
        except OSError:
            return True
        # Bytes sent on an event stream are ignored; stop watching so they cannot spin us.
        return not data

    # -- the connection's greenlet -------------------------------------------------------

    def _chunks(self) -> Generator[bytes, None, None]:
        subscriber = self.subscriber
        heartbeat = self._heartbeat
        ends_at = self._ends_at
        deadline = Timeout(
            self._write_deadline, SubscriberDropped("write deadline exceeded"), ref=False
        )
        timed = self._write_deadline > 0
        self._greenlet = getcurrent()
        subscriber.interrupt = self._interrupt
        try:
            self._watch_peer()
            first = COMMENT + subscriber.drain()
            self._writing = True
            if timed:
                deadline.start()
            yield first
            if timed:
                deadline.cancel()
            self._writing = False
            now = time.monotonic()
            next_heartbeat = now + heartbeat if heartbeat else None
            while True:
                wake_at = next_heartbeat
                if ends_at is not None and (wake_at is None or ends_at < wake_at):
                    wake_at = ends_at
                timeout = None if wake_at is None else max(wake_at - now, 0.0)
                subscriber.wait(timeout)
                if subscriber.closed:
                    if subscriber.overflowed:
                        raise SubscriberDropped("queue overflow")
                    return
                if self._peer_readable and self._peer_gone():
                    return
                chunk = subscriber.drain()
                now = time.monotonic()
                if not chunk and next_heartbeat is not None and now >= next_heartbeat:
                    chunk = COMMENT
                if chunk:
                    self._writing = True
                    if timed:
                        deadline.start()
                    yield chunk
                    if timed:
                        deadline.cancel()
                    self._writing = False
                    now = time.monotonic()
                    if heartbeat:
                        next_heartbeat = now + heartbeat
                if ends_at is not None and now >= ends_at:
                    return
        finally:
            self._writing = False
            subscriber.interrupt = None
            deadline.close()
            self._stop_watching()
