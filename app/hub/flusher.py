"""Writes queued SSE frames straight to subscribers' sockets, once per event-loop pass.

A :class:`~app.hub.stream.SubscriberStream` that owns its socket's writes (see
"direct writes" in :mod:`app.hub.stream`) is handed to its process's :class:`Flusher`
when a frame is queued for it, instead of waking its greenlet. The flusher runs once per
loop iteration, as a loop callback scheduled by the first stream handed to it, and asks
every stream handed to it since to write what it has queued with one non-blocking
``send``. So a delivery costs no greenlet switch and no WSGI-server write, and every
update queued for a stream within one loop iteration goes out in one system call.

Each chunk is framed for the wire (HTTP/1.1 chunked transfer coding) once per pass
whatever the number of streams writing it: the streams of one fan-out drain the very same
frame object, and :meth:`Flusher.framed` returns the framing it built for the previous
stream when given the same object.

Contracts:

* Never blocks and never switches greenlets: a stream whose socket cannot take all its
  bytes keeps the rest and wakes its own greenlet, which finishes the write cooperatively
  (under the write deadline) before the flusher writes to that socket again.
* A stream is written at most once per pass, in the order streams were handed over; a
  stream whose flush raises does not keep the others from being flushed.
* A pass lasts about :data:`SLICE` seconds at most: the rest of the streams are written
  in the next loop iteration, after the loop polled for I/O (so new requests, and the
  next updates, are not held up by a fan-out to many thousands of sockets; the updates
  queued meanwhile go out with the same ``send``).
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Protocol

from gevent import get_hub

__all__ = ["Flusher", "chunked"]


class Flushable(Protocol):
    def flush(self, now: float, flusher: Flusher) -> None: ...


def chunked(chunk: bytes) -> bytes:
    """``chunk`` as one chunk of HTTP/1.1's chunked transfer coding."""
    return b"%x\r\n%b\r\n" % (len(chunk), chunk)


class Flusher:
    """The streams of one event loop that have frames to write, flushed in one pass."""

    __slots__ = ("__weakref__", "_last_chunk", "_last_framed", "_loop", "_pending", "_scheduled")

    def __init__(self, loop: Any) -> None:
        self._loop = loop
        self._pending: list[Flushable] = []
        self._scheduled = False
        self._last_chunk: bytes | None = None
        self._last_framed = b""

    @classmethod
    def current(cls) -> Flusher:
        """The flusher of the running event loop (one per loop, made on first use)."""
        hub = get_hub()
        flusher = _FLUSHERS.get(hub)
        if flusher is None:
            flusher = _FLUSHERS[hub] = cls(hub.loop)
        return flusher

    def add(self, stream: Flushable) -> None:
        """Flush ``stream`` in the next pass (callers add a stream once per pass)."""
        self._pending.append(stream)
        if not self._scheduled:
            self._scheduled = True
            self._loop.run_callback(self._flush)

    def framed(self, chunk: bytes) -> bytes:
        """``chunk`` in chunked transfer coding, built once for consecutive equal objects."""
        if chunk is self._last_chunk:
            return self._last_framed
        framed = self._last_framed = chunked(chunk)
        self._last_chunk = chunk
        return framed

    def _flush(self) -> None:
        """Flush the pending streams in order, for at most :data:`SLICE` seconds; the rest
        waits for the next loop iteration, after the loop has polled for I/O."""
        pending = self._pending
        now = time.monotonic()
        deadline = now + SLICE
        done = 0
        try:
            for stream in pending:
                done += 1
                stream.flush(now, self)
                if not done % SLICE_CHECK and time.monotonic() > deadline:
                    break
        finally:
            self._last_chunk = None
            self._last_framed = b""
            # What is left (and a stream that raised, a defect the loop reports, must not
            # strand the rest) goes first in the next pass.
            self._pending = pending[done:]
            if self._pending:
                timer = self._loop.timer(0.0, ref=False)
                timer.start(self._resume, timer)
            else:
                self._scheduled = False

    def _resume(self, timer: Any) -> None:
        timer.close()
        self._flush()


SLICE = 0.001
"""Seconds one pass writes before letting the loop poll: under a burst, the streams not
written yet meanwhile gather later updates, and write them with the same ``send``. The
shorter the pass, the more they gather; ``docs/benchmarks.md`` compares 1 ms with 5 ms."""
SLICE_CHECK = 64
"""Streams written between two looks at the clock."""

_FLUSHERS: weakref.WeakKeyDictionary[Any, Flusher] = weakref.WeakKeyDictionary()
