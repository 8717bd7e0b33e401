"""The built-in hub as a destination of relayed updates.

An update larger than the hub's ``MERCURE_MAX_UPDATE_SIZE`` is :class:`Rejected` (kept in
the outbox as ``rejected`` and logged), as the hub's publish endpoint refuses it: the
size is checked before the commit (see :mod:`app.publish.limits`), so only a row written
under a larger limit (by a process configured otherwise) reaches this check.
"""

from __future__ import annotations

from typing import Protocol

from app.hub.transport import TransportError
from app.hub.update import Update
from app.publish.limits import UpdateLimit, UpdateTooLarge
from app.publish.relay import Rejected, Unavailable

__all__ = ["HubDeliverer", "UpdateTarget"]


class UpdateTarget(Protocol):
    """Anything that dispatches an update at once: the built-in hub."""

    def publish(self, update: Update) -> str:
        """Dispatch ``update`` and return its id; raise ``TransportError`` when the
        transport cannot take it."""


class HubDeliverer:
    """Dispatches to the hub of this process; a transport failure is :class:`Unavailable`."""

    def __init__(self, hub: UpdateTarget, limit: UpdateLimit | None = None) -> None:
        self._hub = hub
        self._limit = limit

    def deliver(self, update: Update) -> None:
        if self._limit is not None:
            try:
                self._limit.check(update)
            except UpdateTooLarge as error:
                raise Rejected(error.detail) from None
        try:
            self._hub.publish(update)
        except TransportError as error:
            raise Unavailable(str(error)) from None

    def close(self) -> None:
        return None
