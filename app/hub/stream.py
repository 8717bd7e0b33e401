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
* direct writes: when the server frames the body in a way the stream can reproduce
  (:func:`direct_framing`: gunicorn's or gevent's HTTP/1.x server on a plain TCP socket),
  every chunk after the first is written by the stream itself, HTTP/1.1 chunk framing
  included. Live frames are then written from the event loop by the process's
  :class:`~app.hub.flusher.Flusher`, once per loop iteration, with a non-blocking
  ``send`` of everything queued for the stream; its greenlet is woken only for what it
  must do itself: finish a write the socket could not take at once (under the write
  deadline), a history replayed late, a heartbeat, the end of its life, a disconnect or
  a peer that hung up. Otherwise (another server, TLS, HTTP/2) every chunk is handed to
  the server and each wake-up drains all queued frames into one write.

:meth:`close` (called by the WSGI server, also for ``HEAD`` and aborted responses) calls
``on_close(subscriber)`` exactly once.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from gevent import get_hub, getcurrent

from app.hub.flusher import Flusher, chunked
from app.hub.sse import COMMENT
from app.hub.subscriber import Subscriber

__all__ = [
    "CHUNKED",
    "RAW",
    "SubscriberDropped",
    "SubscriberStream",
    "client_socket",
    "direct_framing",
    "disable_nagle",
]

CHUNKED = "chunked"
"""The server frames the body in HTTP/1.1 chunked transfer coding."""
RAW = "raw"
"""The server writes the body as it is (HTTP/1.0: the body ends when the connection does)."""


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


def direct_framing(environ: dict[str, Any], sock: Any | None) -> str | None:
    """How the server frames this response's body, when the stream may write its socket
    itself: :data:`CHUNKED`, :data:`RAW`, or ``None`` (hand every chunk to the server).

    Only for the servers whose framing is known (gunicorn's HTTP worker and gevent's
    pywsgi: chunked for an HTTP/1.1 ``GET`` answered without ``Content-Length``, as is
    written for HTTP/1.0) on a plain TCP socket: never under TLS or HTTP/2, whose bytes
    only the server can write.
    """
    if sock is None or hasattr(sock, "cipher") or environ.get("REQUEST_METHOD") != "GET":
        return None
    if "gunicorn.socket" not in environ and not _is_pywsgi(environ):
        return None
    protocol = environ.get("SERVER_PROTOCOL")
    if protocol == "HTTP/1.1":
        return CHUNKED
    if protocol == "HTTP/1.0":
        return RAW
    return None


def _is_pywsgi(environ: dict[str, Any]) -> bool:
    return type(environ.get("wsgi.input")).__module__ == "gevent.pywsgi"


class SubscriberStream:
    """Iterates the SSE chunks of one subscriber until it must end.

    An iterator rather than a generator, with ``__slots__``: an idle subscriber holds no
    generator frame, no deadline timer, no pre-built exception and no bound method. The
    write deadline is armed only when a write blocks: a loop callback registered before
    each chunk is handed to the server runs only if the connection's greenlet switches to
    the hub during that write, and then starts a timer for what is left of
    ``write_deadline``; a write that completes at once only cancels the callback.
    """

    __slots__ = (
        "_arming",
        "_deadline",
        "_ends_at",
        "_failure",
        "_flush_pending",
        "_flusher",
        "_framing",
        "_greenlet",
        "_heartbeat",
        "_last_write",
        "_next_heartbeat",
        "_on_close",
        "_peer_readable",
        "_raw",
        "_sock",
        "_state",
        "_unsent",
        "_wake_due",
        "_wake_timer",
        "_watcher",
        "_write_deadline",
        "_write_started",
        "subscriber",
    )

    def __init__(
        self,
        subscriber: Subscriber,
        *,
        on_close: Callable[[Subscriber], None],
        heartbeat: float = 0.0,
        ends_at: float | None = None,
        write_deadline: float = 0.0,
        sock: Any | None = None,
        framing: str | None = None,
    ) -> None:
        self.subscriber = subscriber
        # Called once with ``subscriber``; a shared callable, so no closure per stream.
        self._on_close: Callable[[Subscriber], None] | None = on_close
        self._heartbeat = heartbeat
        self._ends_at = ends_at
        self._write_deadline = write_deadline
        # The OS-level non-blocking socket under gevent's wrapper: peeking it never blocks.
        self._raw: Any | None = getattr(sock, "_sock", None)
        # Direct writes (see the module's docstring): the server's framing, else None.
        self._framing = framing if self._raw is not None else None
        self._sock: Any | None = sock
        self._flush_pending = False
        self._flusher: Flusher | None = None
        self._unsent: memoryview | None = None
        self._failure: OSError | None = None
        self._last_write = 0.0
        self._watcher: Any | None = None
        self._peer_readable = False
        self._state = _NEW
        self._greenlet: Any | None = None
        self._next_heartbeat: float | None = None
        self._write_started = 0.0
        self._arming: Any | None = None
        self._deadline: Any | None = None
        self._wake_timer: Any | None = None
        self._wake_due: float | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def close(self) -> None:
        """End the stream and run the clean-up (idempotent)."""
        self._finish()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close(self.subscriber)

    def _finish(self) -> None:
        """Stop for good: no write in progress, no deadline, no watcher, no interrupt."""
        self._written()
        self._state = _DONE
        self.subscriber.sink = None
        self._unsent = None
        self._stop_watching()
        timer, self._wake_timer = self._wake_timer, None
        if timer is not None:
            timer.stop()
            timer.close()

    # -- timed wake-ups: heartbeat and end of life ---------------------------------------

    def _wake_by(self, wake_at: float, now: float) -> None:
        """Make sure the greenlet is woken at ``wake_at`` at the latest.

        One libev timer per stream, restarted only when it is not already due by then: a
        write pushes the next heartbeat later, and the timer then fires early once, finds
        nothing due and is restarted. So a busy stream costs no timer work per delivery,
        unlike a timed wait (a new gevent ``Timeout`` on every wait).
        """
        due = self._wake_due
        if due is not None and due <= wake_at:
            return
        timer = self._wake_timer
        if timer is not None:
            timer.stop()
            timer.close()
        # A libev timer's delay is fixed when it is made: a new one per restart.
        timer = self._wake_timer = get_hub().loop.timer(max(wake_at - now, 0.0), ref=False)
        timer.start(self._woken_by_timer)
        self._wake_due = wake_at

    def _woken_by_timer(self) -> None:
        # Runs in the event loop: wake the stream's greenlet to look at the clock.
        self._wake_due = None
        timer, self._wake_timer = self._wake_timer, None
        if timer is not None:
            timer.close()
        self.subscriber.wake()

    # -- writes: the deadline and the interrupt ------------------------------------------

    def _write(self, chunk: bytes, started: float, state: int) -> bytes:
        """Hand ``chunk`` to the server, watching the write until :meth:`_written`."""
        self._state = state
        self.subscriber.interrupt = self._interrupt
        if self._write_deadline > 0:
            self._write_started = started
            self._arming = get_hub().loop.run_callback(self._arm_deadline)
        return chunk

    def _written(self) -> None:
        """The chunk handed out last is written (or abandoned): disarm everything."""
        if self._state in _WRITING:
            self._state = _WAITING
        self.subscriber.interrupt = None
        arming, self._arming = self._arming, None
        if arming is not None:
            arming.stop()
        deadline, self._deadline = self._deadline, None
        if deadline is not None:
            deadline.stop()
            deadline.close()

    def _writing(self) -> bool:
        return self._state in _WRITING

    def _arm_deadline(self) -> None:
        """Runs in the event loop only when the write blocked: time what is left of it."""
        self._arming = None
        if not self._writing():
            return
        left = self._write_started + self._write_deadline - time.monotonic()
        deadline = get_hub().loop.timer(max(left, 0.0), ref=False)
        deadline.start(self._deadline_passed)
        self._deadline = deadline

    def _deadline_passed(self) -> None:
        self._abort("write deadline exceeded")

    def _interrupt(self) -> None:
        """On disconnect: abort a write in progress (the peer may never read again)."""
        if self._writing():
            get_hub().loop.run_callback(self._abort, "disconnected during a write")

    def _abort(self, reason: str) -> None:
        greenlet = self._greenlet
        if self._writing() and greenlet is not None and not greenlet.dead:
            greenlet.throw(SubscriberDropped(reason))

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

    def __next__(self) -> bytes:
        """The next chunk to write; blocks this greenlet until there is one."""
        state = self._state
        if state == _DONE:
            raise StopIteration
        try:
            if state == _NEW:
                return self._first()
            if self._framing is not None:
                self._serve_directly()
                chunk = None
            else:
                chunk = self._next_chunk(state)
        except BaseException:
            self._finish()
            raise
        if chunk is None:
            self._finish()
            raise StopIteration
        return chunk

    def _first(self) -> bytes:
        """``:`` and whatever history is already queued, written at once."""
        self._greenlet = getcurrent()
        self._watch_peer()
        chunk = COMMENT + self.subscriber.drain()
        started = time.monotonic() if self._write_deadline > 0 else 0.0
        return self._write(chunk, started, _WRITING_FIRST)

    def _next_chunk(self, state: int) -> bytes | None:
        """After the last chunk was written: wait for the next one (``None``: the end)."""
        self._written()
        subscriber = self.subscriber
        heartbeat = self._heartbeat
        ends_at = self._ends_at
        now = time.monotonic()
        if heartbeat:
            self._next_heartbeat = now + heartbeat
        if state == _WRITING_MORE and ends_at is not None and now >= ends_at:
            return None
        next_heartbeat = self._next_heartbeat
        while True:
            wake_at = next_heartbeat
            if ends_at is not None and (wake_at is None or ends_at < wake_at):
                wake_at = ends_at
            if wake_at is not None:
                self._wake_by(wake_at, now)
            subscriber.wait(None)
            if subscriber.closed:
                if subscriber.overflowed:
                    raise SubscriberDropped("queue overflow")
                return None
            if self._peer_readable and self._peer_gone():
                return None
            chunk = subscriber.drain()
            now = time.monotonic()
            if not chunk and next_heartbeat is not None and now >= next_heartbeat:
                chunk = COMMENT
            if chunk:
                return self._write(chunk, now, _WRITING_MORE)
            if ends_at is not None and now >= ends_at:
                return None

    # -- direct writes -------------------------------------------------------------------

    def queued(self) -> None:
        """A live frame was queued: have the flusher write it in this loop iteration."""
        if not self._flush_pending:
            flusher = self._flusher
            if flusher is not None:
                self._flush_pending = True
                flusher.add(self)

    def flush(self, now: float, flusher: Flusher) -> None:
        """Runs in the event loop: send what is queued without blocking.

        Only while the greenlet sleeps (``_DIRECT``); otherwise it writes the queue itself
        once it is done. Bytes the socket cannot take, or a failed send, wake it.
        """
        self._flush_pending = False
        if self._state != _DIRECT:
            return
        subscriber = self.subscriber
        raw: Any = self._raw
        chunked = self._framing == CHUNKED
        while True:
            chunk = subscriber.drain()
            if not chunk:
                return
            data = flusher.framed(chunk) if chunked else chunk
            try:
                sent = raw.send(data)
            except BlockingIOError:
                sent = 0
            except OSError as error:
                self._failure = error
                self._state = _WAITING
                subscriber.wake()
                return
            self._last_write = now
            if sent < len(data):
                self._unsent = memoryview(data)[sent:]
                self._state = _WAITING
                subscriber.wake()
                return

    def _serve_directly(self) -> None:
        """After the first chunk: write every later one to the socket until the end.

        Returns at the end of the body, or raises as :meth:`_next_chunk` does.
        """
        self._written()
        subscriber = self.subscriber
        heartbeat = self._heartbeat
        ends_at = self._ends_at
        now = self._last_write = time.monotonic()
        self._flusher = Flusher.current()
        subscriber.sink = self
        while True:
            self._send_queued()
            now = time.monotonic()
            if ends_at is not None and now >= ends_at:
                return
            wake_at = None
            if heartbeat:
                wake_at = self._last_write + heartbeat
                if now >= wake_at:
                    self._send(self._frame(COMMENT))
                    continue
            if ends_at is not None and (wake_at is None or ends_at < wake_at):
                wake_at = ends_at
            if wake_at is not None:
                self._wake_by(wake_at, now)
            self._state = _DIRECT
            subscriber.sleep()
            self._state = _WAITING
            if subscriber.closed:
                if subscriber.overflowed:
                    raise SubscriberDropped("queue overflow")
                return
            failure, self._failure = self._failure, None
            if failure is not None:
                raise failure
            if self._peer_readable and self._peer_gone():
                return

    def _frame(self, chunk: bytes) -> bytes:
        return chunked(chunk) if self._framing == CHUNKED else chunk

    def _send_queued(self) -> None:
        """Write what the flusher left and what was queued meanwhile, cooperatively."""
        unsent, self._unsent = self._unsent, None
        if unsent is not None:
            self._send(unsent)
        subscriber = self.subscriber
        while True:
            chunk = subscriber.drain()
            if not chunk:
                return
            self._send(self._frame(chunk))

    def _send(self, data: bytes | memoryview) -> None:
        """Write ``data`` in full from this greenlet, under the write deadline."""
        sock = self._sock
        assert sock is not None
        started = time.monotonic()
        self._write(b"", started, _WRITING_MORE)
        try:
            sock.sendall(data)
        finally:
            self._written()
        self._last_write = time.monotonic()


_NEW = 0
_WRITING_FIRST = 1
_WRITING_MORE = 2
_WAITING = 3
_DONE = 4
_DIRECT = 5
_WRITING = frozenset((_WRITING_FIRST, _WRITING_MORE))
