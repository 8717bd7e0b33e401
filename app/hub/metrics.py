"""What the hub tells a metrics collector, and a collector that ignores it.

The hub calls :class:`HubMetrics` once per subscriber connection, once per disconnection,
once per published update and once per transport reconnection; never per delivery, per
write or per byte, so the fan-out path stays free of metric work. The app factory plugs a
Prometheus implementation in (:mod:`app.metrics`); a hub mounted alone uses
:data:`NO_METRICS`.
"""

from __future__ import annotations

__all__ = ["NO_METRICS", "HubMetrics"]


class HubMetrics:
    """Events of one hub; this base ignores them all. Implementations must not block or
    raise: the hub calls them inline."""

    def subscriber_connected(self) -> None:
        """A subscriber was registered (its stream is open)."""

    def subscriber_disconnected(self, *, dropped: bool) -> None:
        """A registered subscriber went away; ``dropped``: the hub disconnected it
        because it read too slowly (its queue overflowed)."""

    def update_published(self) -> None:
        """An update was handed to the transport by :meth:`Hub.publish`."""

    def transport_reconnected(self) -> None:
        """The transport got its connection back after losing it."""


NO_METRICS = HubMetrics()
