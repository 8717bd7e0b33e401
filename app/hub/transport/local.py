"""What the one-process transports (``memory://``, ``sqlite://``) share.

A :class:`LocalTransport` delivers to the subscribers of its own process through one
:class:`~app.hub.transport.fanout.FanOut`, remembers the id of the newest update for the
subscriptions API, and on :meth:`close` disconnects every subscriber once, then lets the
subclass release its history.
"""

from __future__ import annotations

from app.hub.subscriber import EARLIEST, Subscriber, SubscriberInfo
from app.hub.transport.base import Transport
from app.hub.transport.fanout import FanOut

__all__ = ["LocalTransport"]


class LocalTransport(Transport):
    """Base of the transports whose subscribers all live in this process."""

    def __init__(self, last_event_id: str = EARLIEST) -> None:
        self._fanout = FanOut()
        self._last_event_id = last_event_id
        self._closed = False

    def remove_subscriber(self, subscriber: Subscriber) -> None:
        self._fanout.remove(subscriber)

    def subscribers(self) -> tuple[str, list[SubscriberInfo]]:
        return self._last_event_id, [subscriber.info for subscriber in self._fanout]

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
