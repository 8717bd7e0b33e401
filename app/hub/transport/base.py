"""The transport interface: how updates travel from publishers to subscribers.

A transport carries each dispatched update to every subscriber of every worker sharing it
(one process for ``memory://``, many for shared transports), keeps a history for
reconnection, and knows the active subscribers. Each worker delivers to its own
subscribers through a :class:`~app.hub.transport.fanout.FanOut`.

Contracts every implementation keeps:

* :meth:`Transport.dispatch` never blocks on a subscriber and never fails because of one.
  It stores the update in the history (when there is one) and delivers it live.
* :meth:`Transport.add_subscriber` replays history when the subscriber requested a
  Last-Event-ID: every stored update *after* that id which the subscriber
  :meth:`~app.hub.subscriber.Subscriber.matches`, via ``dispatch(..., from_history=True)``,
  then calls ``subscriber.history_dispatched(answer)`` where ``answer`` is the requested id
  when found (every kept update for ``earliest``, answered ``earliest``) and ``earliest``
  when it is unknown. Live updates that arrive meanwhile are buffered by the subscriber,
  so there is no gap and no duplicate. The answer is also returned (``None`` when no id was
  requested) and becomes the ``Last-Event-ID`` response header.
* After :meth:`Transport.close`, ``dispatch`` and ``add_subscriber`` raise
  :class:`TransportClosedError`, and connected subscribers are disconnected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from app.hub.subscriber import EARLIEST, Subscriber, SubscriberInfo
from app.hub.update import Update

__all__ = ["EARLIEST", "Transport", "TransportClosedError", "TransportError"]


class TransportError(Exception):
    """The transport cannot carry updates right now.

    The publish endpoint answers 500, as the reference hub does for a failed dispatch;
    a subscribe request on a closed transport answers 503.
    """


class TransportClosedError(TransportError):
    """The transport was closed; no more updates or subscribers are accepted."""

    def __init__(self, message: str = "the hub transport is closed") -> None:
        super().__init__(message)


class Transport(ABC):
    """Carries updates to subscribers, with history and knowledge of active subscribers.

    ``shared``: updates dispatched in one process reach the subscribers of every process
    using the same transport (``False``: only this process's subscribers)."""

    shared = False
    on_reconnect: Callable[[], None] = staticmethod(lambda: None)
    """Called each time the transport gets its connection back after losing it (the hub
    sets it to count reconnections)."""

    def check(self) -> None:  # noqa: B027 (optional: nothing to check by default)
        """Raise :class:`TransportError` unless the transport can carry updates now (a
        shared transport's server answers). Cheap: one round trip at most."""

    @abstractmethod
    def dispatch(self, update: Update) -> None:
        """Store ``update`` in the history and deliver it to every matching subscriber."""

    @abstractmethod
    def add_subscriber(self, subscriber: Subscriber) -> str | None:
        """Register ``subscriber``, replaying history first when it requested an id.

        Returns the ``Last-Event-ID`` response header value, ``None`` when no id was
        requested (see the module contract).
        """

    @abstractmethod
    def remove_subscriber(self, subscriber: Subscriber) -> None:
        """Stop delivering to ``subscriber`` (idempotent)."""

    @abstractmethod
    def subscribers(self) -> tuple[str, list[SubscriberInfo]]:
        """The last dispatched update id (``earliest`` when none) and every active
        subscriber, across all workers for shared transports."""

    @abstractmethod
    def close(self) -> None:
        """Disconnect subscribers and release resources (idempotent)."""
