"""What the transport tests read back: the ids of the SSE frames a subscriber was given."""

from __future__ import annotations

import gevent

from app.hub.subscriber import Subscriber


def drained_ids(subscriber: Subscriber) -> list[str]:
    """The ``id`` of every frame queued for ``subscriber``, which are drained."""
    chunk = subscriber.drain().decode()
    return [line[4:] for line in chunk.split("\n") if line.startswith("id: ")]


def received_ids(subscriber: Subscriber, count: int, timeout: float = 10) -> list[str]:
    """Ids of the frames the subscriber got, waiting until ``count`` arrived (or timeout)."""
    ids: list[str] = []
    with gevent.Timeout(timeout, False):
        while len(ids) < count:
            subscriber.wait(None)
            ids += drained_ids(subscriber)
            if subscriber.closed:
                break
    return ids


def names(prefix: str, count: int, start: int = 0) -> list[str]:
    """``names("u", 3) == ["u0", "u1", "u2"]``."""
    return [f"{prefix}{number}" for number in range(start, start + count)]
