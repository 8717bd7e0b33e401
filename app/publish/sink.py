"""The built-in hub as a destination of relayed updates."""

from __future__ import annotations

from typing import Protocol

from app.hub.transport import TransportError
from app.hub.update import Update
from app.publish.relay import Unavailable

__all__ = ["HubDeliverer", "UpdateTarget"]


class UpdateTarget(Protocol):
    """Anything that dispatches an update at once: the built-in hub."""

    def publish(self, update: Update) -> str:
        """Dispatch ``update`` and return its id; raise ``TransportError`` when the
        transport cannot take it."""


class HubDeliverer:
    """Dispatches to the hub of this process; a transport failure is :class:`Unavailable`."""

    def __init__(self, hub: UpdateTarget) -> None:
        self._hub = hub

    def deliver(self, update: Update) -> None:
        try:
            self._hub.publish(update)
        except TransportError as error:
            raise Unavailable(str(error)) from None

    def close(self) -> None:
        return None
