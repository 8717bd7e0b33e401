"""A real SSE subscriber for the publishing tests: httpx + httpx-sse in a greenlet.

It follows the Mercure reconnection rules a browser follows: when the stream ends or the
hub cannot be reached, it reconnects with ``Last-Event-ID`` set to the last id it saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import gevent
import httpx
from gevent.event import Event
from gevent.queue import Queue
from httpx_sse import ServerSentEvent, connect_sse

RECONNECT_PAUSE = 0.05
DEADLINE = 20.0


class Subscriber:
    """Subscribes to ``topics`` at ``hub_url``; read events with :meth:`next`.

    ``token`` goes in an ``Authorization: Bearer`` header, ``cookie`` in the
    ``mercureAuthorization`` cookie, as a browser sends it."""

    def __init__(
        self,
        hub_url: str,
        topics: Sequence[str],
        *,
        token: str | None = None,
        cookie: str | None = None,
        last_event_id: str | None = None,
        reconnect: bool = False,
    ) -> None:
        self.hub_url = hub_url
        self.topics = list(topics)
        self.token = token
        self.cookie = cookie
        self.last_event_id = last_event_id
        self.reconnect = reconnect
        self.connections = 0
        self.opened = Event()
        self._events: Queue[ServerSentEvent] = Queue()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._greenlet = gevent.spawn(self._run)
        with gevent.Timeout(DEADLINE, AssertionError(f"could not subscribe at {hub_url}")):
            self.opened.wait()

    def _run(self) -> None:
        while True:
            headers = {}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            if self.cookie:
                headers["Cookie"] = f"mercureAuthorization={self.cookie}"
            if self.last_event_id:
                headers["Last-Event-ID"] = self.last_event_id
            try:
                with connect_sse(
                    self._client,
                    "GET",
                    self.hub_url,
                    params={"topic": self.topics},
                    headers=headers,
                ) as source:
                    source.response.raise_for_status()
                    self.connections += 1
                    self.opened.set()
                    for event in source.iter_sse():
                        if event.id:
                            self.last_event_id = event.id
                        self._events.put(event)
            except httpx.TransportError:
                pass
            if not self.reconnect:
                return
            gevent.sleep(RECONNECT_PAUSE)

    def next(self) -> ServerSentEvent:
        """The next event; fails the test after a generous deadline instead of hanging."""
        with gevent.Timeout(DEADLINE, AssertionError("no event arrived")):
            event: ServerSentEvent = self._events.get()
            return event

    def take(self, count: int) -> list[ServerSentEvent]:
        return [self.next() for _ in range(count)]

    def pending(self) -> list[ServerSentEvent]:
        """Events already received and not read yet."""
        events = []
        while not self._events.empty():
            events.append(self._events.get())
        return events

    def close(self) -> None:
        self._greenlet.kill(block=True, timeout=2)
        self._client.close()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
