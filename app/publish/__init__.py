"""Committed changes of Mercure resources become Mercure updates.

:func:`init_app` wires the pieces for one app: a :class:`~app.publish.tracker.Tracker` on
the ORM session events, an :class:`~app.publish.factory.UpdateFactory` that shapes updates
as API Platform does, and one sink per hub (the built-in hub, or an external hub through a
durable outbox). The returned :class:`Publisher` is also stored as
``app.extensions["mercure_publisher"]``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from app.config.spec import ResourceSpec, ResourcesSpec
from app.hub import Hub
from app.models import ModelRegistry
from app.publish.external import ExternalSink, Sender
from app.publish.factory import UpdateFactory
from app.publish.item import ItemView, RegistryItemView
from app.publish.outbox import Outbox
from app.publish.publisher import Publisher
from app.publish.settings import (
    BUILT_IN_DISCOVERY_URL,
    DEFAULT_HUB,
    OUTBOX_FILE_NAME,
    PublishSettings,
)
from app.publish.sink import HubSink, Sink, UpdateTarget
from app.publish.topic import TopicError, parse
from app.publish.tracker import Tracker
from app.settings import Settings

__all__ = ["EXTENSION_KEY", "Publisher", "build_publisher", "init_app"]

EXTENSION_KEY = "mercure_publisher"


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    registry: ModelRegistry,
    hub: Hub,
    settings: Settings,
    environ: Mapping[str, str] | None = None,
) -> Publisher:
    """Start publishing committed changes of ``spec``'s Mercure resources.

    External hubs are read from ``environ`` (default: the process environment; see
    :mod:`app.publish.settings`);
    a misconfiguration raises :class:`~app.publish.settings.PublishSettingsError` naming
    the variable, before any request is served.
    """
    models = {
        registry.model(resource.name): resource
        for resource in spec.resources
        if resource.mercure.enabled
    }
    return build_publisher(
        app,
        spec,
        models,
        RegistryItemView(registry),
        hub,
        settings,
        PublishSettings.from_env(os.environ if environ is None else environ, _hub_names(spec)),
    )


def build_publisher(
    app: Flask,
    spec: ResourcesSpec,
    models: Mapping[type, ResourceSpec],
    view: ItemView,
    hub: UpdateTarget,
    settings: Settings,
    publish_settings: PublishSettings,
) -> Publisher:
    """Wire a publisher from explicit parts (``models``: model class -> resource spec)."""
    _check_templates(spec)
    sinks: dict[str, Sink] = {}
    discovery: dict[str, str] = {}
    outbox: Outbox | None = None
    for name in {DEFAULT_HUB, *_hub_names(spec)}:
        external = publish_settings.hubs.get(name)
        if external is None:
            sinks[name] = HubSink(hub)
            discovery[name] = BUILT_IN_DISCOVERY_URL
            continue
        if outbox is None:
            outbox = Outbox(
                publish_settings.outbox_path or Path(app.instance_path) / OUTBOX_FILE_NAME
            )
        sender = Sender(
            external,
            outbox,
            retry_min_delay=publish_settings.retry_min_delay,
            retry_max_delay=publish_settings.retry_max_delay,
            timeout=publish_settings.publish_timeout,
        )
        sender.start()
        sinks[name] = ExternalSink(sender, outbox)
        discovery[name] = external.subscribe_url
    publisher = Publisher(sinks, discovery, spec.resources, outbox)
    publisher.keep(Tracker(models, UpdateFactory(view, settings.public_url), publisher.publish))
    app.extensions[EXTENSION_KEY] = publisher
    return publisher


def _check_templates(spec: ResourcesSpec) -> None:
    """Refuse to start with a malformed topic or id template, naming the resource."""
    for resource in spec.resources:
        options = resource.mercure
        templates = [("topics", t) for t in options.topics]
        templates += [("id", options.id)] if options.id else []
        for key, template in templates:
            try:
                parse(template)
            except TopicError as error:
                raise TopicError(f"resources.{resource.name}.mercure.{key}: {error}") from None


def _hub_names(spec: ResourcesSpec) -> set[str]:
    return {r.mercure.hub for r in spec.resources if r.mercure.enabled and r.mercure.hub}
