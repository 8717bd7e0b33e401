"""What the one-process transports (``memory://``, ``sqlite://``) share.

A :class:`LocalTransport` delivers to the subscribers of its own process through one
:class:`~app.hub.transport.fanout.FanOut`, remembers the id of the newest update for the
subscriptions API, and on :meth:`close` disconnects every subscriber once, then lets the
subclass release its history.
"""

from __future__ import annotations

from app.hub.subscriber import EARLIEST, Subscriber, SubscriberInfo
from app.hub.transport.base import Transport, TransportClosedError
from app.hub.transport.fanout import FanOut

__all__ = ["LocalTransport"]


class LocalTransport(Transport):
    """Base of the transports whose subscribers all live in this process."""

    def __init__(self, last_event_id: str = EARLIEST) -> None:
        self._fanout = FanOut()
        self._last_event_id = last_event_id
        self._closed = False

    def add_subscriber(self, subscriber: Subscriber) -> str | None:
        """Replay the history the subscriber asked for, then deliver to it live.

        No greenlet switch happens in between, so nothing is missed or sent twice.
        """
        if self._closed:
            raise TransportClosedError()
        requested = subscriber.request_last_event_id
        answer = None if requested is None else self._replay(subscriber, requested)
        self._fanout.add(subscriber)
        return answer

    def _replay(self, subscriber: Subscriber, requested: str) -> str:
        """Dispatch the updates after ``requested`` that match; return the answered id
        (``EARLIEST`` when ``requested`` is unknown)."""
        raise NotImplementedError

    def remove_subscriber(self, subscriber: Subscriber) -> None:
        self._fanout.remove(subscriber)

    def subscribers(self) -> tuple[str, list[SubscriberInfo]]:
        return self._last_event_id, [subscriber.info for subscriber in self._fanout]

    def check(self) -> None:
        if self._closed:
            raise TransportClosedError()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for subscriber in self._fanout:
            self._fanout.remove(subscriber)
            subscriber.disconnect()
        self._release()

    def _release(self) -> None:
        """Free the history; called once, by :meth:`close`, after every disconnect."""
