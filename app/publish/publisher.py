"""The publishing bridge of one app: committed changes -> outbox rows -> relays -> hubs.

:class:`Publisher` is what :func:`app.publish.init_app` returns. :meth:`Publisher.stage`
writes a transaction's updates to the outbox inside that transaction (the session
tracker calls it just before the commit); :meth:`Publisher.committed` hands them to each
hub's :class:`~app.publish.relay.Relay` after the commit. :meth:`Publisher.discovery_url_for`
gives the hub URL the REST layer advertises for a resource in ``Link: <url>;
rel="mercure"``: the relative ``/.well-known/mercure`` for the built-in hub,
``MERCURE_SUBSCRIBE_URL`` for an external one (a resource may name another hub), ``None``
when the resource does not publish.

Before writing, :meth:`Publisher.stage` measures each update against its hub's
:class:`~app.publish.limits.UpdateLimit`, and checks that no topic is in the hub's reserved
namespace: an update its hub would refuse fails the commit with
:class:`~app.publish.limits.UpdateTooLarge` (413) or
:class:`~app.publish.limits.ReservedTopic` (422), so no change commits whose update could
not be published, and no item's update can pass for one of the hub's subscription events.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from app.config.spec import ResourceSpec
from app.hub.update import Update
from app.publish.limits import UpdateLimit, check_topics
from app.publish.outbox import Outbox, Queued
from app.publish.relay import Relay
from app.publish.settings import DEFAULT_HUB
from app.publish.tracker import Tracker

logger = logging.getLogger("app.publish")

Staged = list[Queued]


class Publisher:
    """Stages ``(resource, update)`` pairs for the hub of their resource and relays them."""

    def __init__(
        self,
        outbox: Outbox,
        relays: Mapping[str, Relay],
        discovery_urls: Mapping[str, str],
        resources: Sequence[ResourceSpec],
        limits: Mapping[str, UpdateLimit] | None = None,
    ) -> None:
        self.outbox = outbox
        self._limits = dict(limits or {})
        self.relays = dict(relays)
        self.tracker: Tracker | None = None
        """The session tracker feeding this publisher (held here: its listeners hold it
        weakly)."""
        self._discovery_urls = dict(discovery_urls)
        self._hub_of = {
            r.name: r.mercure.hub or DEFAULT_HUB for r in resources if r.mercure.enabled
        }

    def discovery_url_for(self, resource_name: str) -> str | None:
        """The hub URL to advertise for ``resource_name``; ``None`` without Mercure."""
        hub = self._hub_of.get(resource_name)
        return None if hub is None else self._discovery_urls[hub]

    def stage(self, session: Session, updates: Sequence[tuple[ResourceSpec, Update]]) -> Staged:
        """Write ``updates`` to the outbox in ``session``'s transaction, in order per hub.
        Raises :class:`~app.publish.limits.UpdateTooLarge` for an update larger than its
        hub takes and :class:`~app.publish.limits.ReservedTopic` for one in the hub's
        namespace, before writing anything, and what the database raises: the
        transaction then fails, change and all."""
        by_hub: dict[str, list[Update]] = {}
        for resource, update in updates:
            check_topics(update)
            hub = self._hub_of.get(resource.name, DEFAULT_HUB)
            limit = self._limits.get(hub)
            if limit is not None:
                limit.check(update)
            by_hub.setdefault(hub, []).append(update)
        staged: Staged = []
        for hub, batch in by_hub.items():
            relay = self.relays.get(hub)
            settled = relay.settled() if relay is not None else ()
            staged += self.outbox.stage(session, hub, batch, settled=settled)
        return staged

    def committed(self, staged: Staged) -> None:
        """Relay the rows of a transaction that committed. Never raises."""
        by_hub: dict[str, list[Queued]] = {}
        for row in staged:
            by_hub.setdefault(row.hub, []).append(row)
        for hub, rows in by_hub.items():
            self.relays[hub].committed(rows)

    def drain(self) -> None:
        """Prepare a graceful stop: hand the backlogs over to other processes."""
        for relay in self.relays.values():
            relay.drain()

    def close(self) -> None:
        """Stop the relays; rows not relayed stay in the outbox."""
        for relay in self.relays.values():
            relay.close()
