"""The gateway's Prometheus metrics and where a scrape reads them.

Hub metrics carry the reference hub's names (``mercure_subscribers_connected``,
``mercure_subscribers_total``, ``mercure_updates_total``, no labels); the gateway's own
start with ``gateway_``. Under gunicorn every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape, whichever worker serves it, sums them
(``prometheus_client``'s multiprocess mode; the connected-subscribers gauge counts live
workers only). The outbox gauges are read from the database at scrape time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.hub.metrics import HubMetrics

__all__ = ["Backlog", "GatewayMetrics", "OutboxCollector", "exposition"]

logger = logging.getLogger(__name__)

Backlog = Callable[[], Iterable[tuple[str, str, int, float | None]]]
"""Rows of the outbox by (hub, status): ``(hub, status, count, oldest created_at)``."""


class GatewayMetrics(HubMetrics):
    """Every metric of one gateway process, registered in :attr:`registry`."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.subscribers_connected = Gauge(
            "mercure_subscribers_connected",
            "The current number of running subscribers",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.subscribers_total = Counter(
            "mercure_subscribers_total", "Total number of handled subscribers", registry=registry
        )
        self.updates_total = Counter(
            "mercure_updates_total", "Total number of handled updates", registry=registry
        )
        self.subscribers_dropped = Counter(
            "gateway_subscribers_dropped_total",
            "Subscribers disconnected because they read too slowly (queue overflow)",
            registry=registry,
        )
        self.transport_reconnects = Counter(
            "gateway_transport_reconnects_total",
            "Times the hub transport got its connection back after losing it",
            registry=registry,
        )
        self.requests = Counter(
            "gateway_http_requests_total",
            "REST requests by resource, operation and status",
            ["resource", "operation", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "REST request duration by resource and operation, in seconds",
            ["resource", "operation"],
            registry=registry,
        )
        # Labelled children, looked up once per label values (``labels()`` costs more
        # than the increment itself).
        self._counted: dict[tuple[str, str, int], Counter] = {}
        self._timed: dict[tuple[str, str], Histogram] = {}

        self.scraped: list[Collector] = []

    def add(self, collector: Collector) -> None:
        """Read ``collector`` at every scrape (in whichever process serves it)."""
        self.scraped.append(collector)
        self.registry.register(collector)

    # -- HubMetrics ------------------------------------------------------------------------

    def subscriber_connected(self) -> None:
        self.subscribers_total.inc()
        self.subscribers_connected.inc()

    def subscriber_disconnected(self, *, dropped: bool) -> None:
        self.subscribers_connected.dec()
        if dropped:
            self.subscribers_dropped.inc()

    def update_published(self) -> None:
        self.updates_total.inc()

    def transport_reconnected(self) -> None:
        self.transport_reconnects.inc()

    # -- REST ------------------------------------------------------------------------------

    def request_served(self, resource: str, operation: str, status: int, seconds: float) -> None:
        key = (resource, operation, status)
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(resource, operation, str(status))
        counter.inc()
        histogram = self._timed.get(key[:2])
        if histogram is None:
            histogram = self._timed[key[:2]] = self.latency.labels(resource, operation)
        histogram.observe(seconds)


OUTBOX_STATUSES = ("pending", "rejected")


class OutboxCollector(Collector):
    """``gateway_outbox_updates{hub,status}`` and ``gateway_outbox_oldest_age_seconds{hub}``
    (of the pending rows), read with one grouped query per scrape. Every hub of ``hubs``
    (and every hub with rows) has a sample for each status, ``0`` when it has none, and an
    age, ``0`` when nothing is pending, so that an empty outbox reads as empty rather than
    as missing. A database that cannot be read leaves both out of that scrape (readiness
    reports it)."""

    def __init__(
        self, backlog: Backlog, hubs: Iterable[str] = (), clock: Callable[[], float] = time.time
    ) -> None:
        self._backlog = backlog
        self._hubs = tuple(hubs)
        self._clock = clock

    def describe(self) -> Iterator[Metric]:
        """The families, without reading the database (registration calls it)."""
        yield from self._families()

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "gateway_outbox_updates",
            "Updates in the outbox: pending (not relayed yet) or rejected by their hub",
            labels=["hub", "status"],
        )
        age = GaugeMetricFamily(
            "gateway_outbox_oldest_age_seconds",
            "Age of the oldest pending update of the outbox, in seconds",
            labels=["hub"],
        )
        return depth, age

    def collect(self) -> Iterator[Metric]:
        try:
            rows = list(self._backlog())
        except Exception as error:  # a scrape must not fail because the database does
            logger.warning("cannot read the outbox for metrics: %s", type(error).__name__)
            return
        depth, age = self._families()
        now = self._clock()
        hubs = {*self._hubs, *(row[0] for row in rows)}
        counts = {(hub, status): 0 for hub in hubs for status in OUTBOX_STATUSES}
        ages = dict.fromkeys(hubs, 0.0)
        for hub, status, count, oldest in rows:
            counts[hub, status] = count
            if status == "pending" and oldest is not None:
                ages[hub] = max(0.0, now - oldest)
        for (hub, status), count in sorted(counts.items()):
            depth.add_metric([hub, status], count)
        for hub, seconds in sorted(ages.items()):
            age.add_metric([hub], seconds)
        yield depth
        yield age


def exposition(metrics: GatewayMetrics, multiprocess_dir: str | None) -> bytes:
    """The text exposition of a scrape: every worker's values (multiprocess mode) or this
    process's, plus the collectors read at scrape time (:meth:`GatewayMetrics.add`)."""
    if multiprocess_dir is None:
        return generate_latest(metrics.registry)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    for collector in metrics.scraped:
        registry.register(collector)
    return generate_latest(registry)
