"""Where committed updates go: the built-in hub or an external hub.

A :class:`Sink` receives updates in commit order right after the commit. ``send`` never
raises and never blocks on subscribers or a remote hub: the data is already committed, so
a failure is logged (with the update's topics) and, for durable sinks, retried later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from app.hub.update import Update

logger = logging.getLogger("app.publish")


class UpdateTarget(Protocol):
    """Anything that dispatches an update at once: the built-in hub."""

    def publish(self, update: Update) -> str:
        """Dispatch ``update`` and return its id."""


class Sink(Protocol):
    """Destination of committed updates."""

    def send(self, updates: Sequence[Update]) -> None:
        """Deliver or durably queue ``updates`` in order; never raises."""

    def close(self) -> None:
        """Stop background work; queued updates stay queued if the sink is durable."""


class HubSink:
    """Publishes to the hub inside this process; a failure is logged and dropped."""

    def __init__(self, hub: UpdateTarget) -> None:
        self._hub = hub

    def send(self, updates: Sequence[Update]) -> None:
        for update in updates:
            try:
                self._hub.publish(update)
            except Exception:
                logger.exception(
                    "publishing update %s to the built-in hub failed; topics: %s",
                    update.id,
                    ", ".join(update.topics),
                )

    def close(self) -> None:
        return None
