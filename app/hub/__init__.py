"""The built-in Mercure hub: subscribe and publish at ``/.well-known/mercure``.

The hub knows nothing of the rest of the gateway. :func:`init_app` mounts it on a Flask
app; application code publishes with :meth:`Hub.publish`, which never blocks on
subscribers (deliveries go to bounded per-subscriber queues) and never fails because of
one. Subscribers connect over Server-Sent Events; the transport (``MERCURE_TRANSPORT_URL``,
in-memory by default) carries updates to them and keeps the reconnection history.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

from app.hub.auth import Verifier
from app.hub.metrics import NO_METRICS, HubMetrics
from app.hub.oauth import (
    PUBLISHER,
    SUBSCRIBER,
    AccessTokenVerifier,
    KeySource,
    VerifierKeys,
    issuer_keys,
)
from app.hub.settings import HubSettings, HubSettingsError
from app.hub.subscriber import Subscriber
from app.hub.subscriptions import subscription_updates
from app.hub.transport import (
    Transport,
    TransportClosedError,
    TransportError,
    create_transport,
)
from app.hub.update import Update

__all__ = ["EXTENSION_KEY", "Hub", "HubSettings", "HubSettingsError", "Update", "init_app"]

EXTENSION_KEY = "mercure_hub"

logger = logging.getLogger(__name__)


def _verifier(
    role: str, algorithm: str, key: str, jwks_file: Path | None, leeway: float
) -> Verifier:
    try:
        return Verifier(algorithm, key or None, jwks_file, leeway=leeway)
    except (ValueError, OSError) as error:
        raise HubSettingsError(
            f"the {role} JWT key is unusable with {algorithm}: {error}; check "
            f"MERCURE_{role.upper()}_JWT_KEY / MERCURE_{role.upper()}_JWT_ALG"
        ) from error


def _issuers(settings: HubSettings, hub: Hub) -> dict[str, dict[str, KeySource]]:
    """The trusted issuers of 1.0 tokens: the hub's own (its publisher and subscriber
    keys), then ``MERCURE_ISSUERS`` (one key source for both roles)."""
    issuers: dict[str, dict[str, KeySource]] = {
        settings.local_issuer: {
            PUBLISHER: VerifierKeys(hub.publisher_verifier),
            SUBSCRIBER: VerifierKeys(hub.subscriber_verifier),
        }
    }
    for issuer in settings.issuers:
        try:
            source = issuer_keys(issuer)
        except (ValueError, OSError) as error:
            raise HubSettingsError(
                f"MERCURE_ISSUERS: the keys of {issuer.identifier!r} are unusable: {error}"
            ) from error
        issuers[issuer.identifier] = {PUBLISHER: source, SUBSCRIBER: source}
    return issuers


class Hub:
    """One hub: settings, token verifiers and a transport.

    ``transport`` defaults to the one named by ``settings.effective_transport_url``;
    ``metrics`` hears of connections, publications and reconnections.
    Raises :class:`HubSettingsError` when a key cannot be used with its algorithm.
    """

    def __init__(
        self,
        settings: HubSettings,
        transport: Transport | None = None,
        metrics: HubMetrics = NO_METRICS,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.publisher_verifier = _verifier(
            "publisher",
            settings.publisher_algorithm,
            settings.publisher_key,
            settings.publisher_jwks_file,
            settings.jwt_leeway,
        )
        self.subscriber_verifier = _verifier(
            "subscriber",
            settings.subscriber_algorithm,
            settings.subscriber_key,
            settings.subscriber_jwks_file,
            settings.jwt_leeway,
        )
        self.access_tokens = AccessTokenVerifier(
            settings.resource, _issuers(settings, self), leeway=settings.jwt_leeway
        )
        if transport is None:
            try:
                transport = create_transport(settings.effective_transport_url)
            except ValueError as error:
                raise HubSettingsError(f"MERCURE_TRANSPORT_URL: {error}") from error
        self.transport = transport
        transport.on_reconnect = metrics.transport_reconnected
        self.draining = False
        self._connected: set[Subscriber] = set()

    def publish(self, update: Update) -> str:
        """Dispatch ``update`` to subscribers and history; return its id.

        Never blocks on a subscriber: it only appends to bounded per-subscriber queues.
        Call it from a greenlet of the process serving the hub (as request handlers and
        the publishing bridge do), not from a foreign OS thread. Raises
        :class:`~app.hub.transport.TransportError` only when the transport itself is
        unavailable (closed, or a shared transport's server is unreachable).
        """
        self.transport.dispatch(update)
        self.metrics.update_published()
        return update.id

    def connect(self, subscriber: Subscriber) -> str | None:
        """Register ``subscriber`` (history replay included); announce its subscriptions.

        Returns the ``Last-Event-ID`` response header value (``None`` when the subscriber
        sent no cursor). Raises :class:`~app.hub.transport.TransportError` when the
        transport cannot take it.
        """
        self._announce(subscriber, active=True)
        try:
            answer = self.transport.add_subscriber(subscriber)
        except Exception:
            self._announce(subscriber, active=False)
            raise
        self._connected.add(subscriber)
        self.metrics.subscriber_connected()
        return answer

    def disconnect(self, subscriber: Subscriber) -> None:
        """Unregister ``subscriber`` and announce the end of its subscriptions.

        Called once per connection, when its stream closes.
        """
        subscriber.disconnect()
        if subscriber in self._connected:
            self._connected.discard(subscriber)
            self.metrics.subscriber_disconnected(dropped=subscriber.overflowed)
        self.transport.remove_subscriber(subscriber)
        self._announce(subscriber, active=False)

    def _announce(self, subscriber: Subscriber, *, active: bool) -> None:
        if not self.settings.subscriptions:
            return
        for update in subscription_updates(subscriber.info, active=active):
            try:
                self.transport.dispatch(update)
            except TransportClosedError:
                return
            except TransportError:
                logger.exception("could not publish the subscription event %s", update.topics[0])

    def drain(self) -> None:
        """Prepare a graceful stop of this process (idempotent).

        Every open stream ends, so its client reconnects, with ``Last-Event-ID``, to a
        process that stays; a stream opened from now on gets its history and ends at once
        (the HTTP layer reads :attr:`draining`). Publishing keeps working until
        :meth:`close`, so nothing accepted meanwhile is refused or lost.
        """
        self.draining = True
        for subscriber in list(self._connected):
            subscriber.disconnect()

    def close(self) -> None:
        """Disconnect every subscriber and close the transport (idempotent). Call it
        when no request can reach the hub any more: afterwards it answers 503 and 500."""
        self.draining = True
        self.transport.close()


def init_app(app: Flask, settings: HubSettings, metrics: HubMetrics = NO_METRICS) -> Hub:
    """Mount the hub on ``app`` and return it (also in ``app.extensions["mercure_hub"]``)."""
    from app.hub import ui
    from app.hub.http import create_blueprint

    hub = Hub(settings, metrics=metrics)
    app.register_blueprint(create_blueprint(hub))
    app.extensions[EXTENSION_KEY] = hub
    if settings.ui:
        ui.init_app(app, settings)
    return hub
