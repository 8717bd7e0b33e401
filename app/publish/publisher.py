"""The publishing bridge of one app: routes committed updates to their hub's sink.

:class:`Publisher` is what :func:`app.publish.init_app` returns.
:meth:`Publisher.discovery_url_for` gives the hub URL the REST layer advertises for a
resource in ``Link: <url>; rel="mercure"``: the relative ``/.well-known/mercure`` for the
built-in hub, ``MERCURE_SUBSCRIBE_URL`` for an external one (a resource may name another
hub), ``None`` when the resource does not publish.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from app.config.spec import ResourceSpec
from app.hub.update import Update
from app.publish.outbox import Outbox
from app.publish.settings import DEFAULT_HUB
from app.publish.sink import Sink

logger = logging.getLogger("app.publish")


class Publisher:
    """Routes ``(resource, update)`` pairs to the sink of the resource's hub."""

    def __init__(
        self,
        sinks: Mapping[str, Sink],
        discovery_urls: Mapping[str, str],
        resources: Sequence[ResourceSpec],
        outbox: Outbox | None = None,
    ) -> None:
        self._sinks = dict(sinks)
        self._outbox = outbox
        self._keep: list[object] = []
        self._discovery_urls = dict(discovery_urls)
        self._hub_of = {
            r.name: r.mercure.hub or DEFAULT_HUB for r in resources if r.mercure.enabled
        }

    def keep(self, part: object) -> None:
        """Hold ``part`` (the session tracker) for as long as this publisher lives."""
        self._keep.append(part)

    def discovery_url_for(self, resource_name: str) -> str | None:
        """The hub URL to advertise for ``resource_name``; ``None`` without Mercure."""
        hub = self._hub_of.get(resource_name)
        return None if hub is None else self._discovery_urls[hub]

    def publish(self, updates: Sequence[tuple[ResourceSpec, Update]]) -> None:
        """Send committed updates, keeping their order per hub. Never raises."""
        by_hub: dict[str, list[Update]] = {}
        for resource, update in updates:
            hub = self._hub_of.get(resource.name, DEFAULT_HUB)
            by_hub.setdefault(hub, []).append(update)
        for hub, batch in by_hub.items():
            self._sinks[hub].send(batch)

    def close(self) -> None:
        """Stop background senders (queued updates stay queued)."""
        for sink in self._sinks.values():
            sink.close()
        if self._outbox is not None:
            self._outbox.close()
