"""Committed changes of Mercure resources become Mercure updates, and none is ever lost.

:func:`init_app` wires the pieces for one app: a :class:`~app.publish.tracker.Tracker` on
the ORM session events, an :class:`~app.publish.factory.UpdateFactory` that shapes updates
as API Platform does, the transactional :class:`~app.publish.outbox.Outbox` (tables in the
app's database, written in the transaction of each change) and one
:class:`~app.publish.relay.Relay` per hub (the built-in hub, or an external hub over HTTP).
The returned :class:`Publisher` is also stored as ``app.extensions["mercure_publisher"]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from flask import Flask

from app.config.spec import ResourceSpec, ResourcesSpec
from app.hub import Hub
from app.models import ModelRegistry
from app.models.columns import relation_column
from app.publish.external import HttpDeliverer
from app.publish.factory import UpdateFactory
from app.publish.item import ItemRenderer, RegistryItemRenderer
from app.publish.limits import UpdateLimit, built_in_limit, check_options, external_limit
from app.publish.outbox import Outbox
from app.publish.publisher import Publisher
from app.publish.relay import Deliverer, Relay
from app.publish.settings import BUILT_IN_DISCOVERY_URL, DEFAULT_HUB, PublishSettings
from app.publish.sink import HubDeliverer, UpdateTarget
from app.publish.tracker import Dependent, Tracker
from app.settings import Settings

__all__ = ["EXTENSION_KEY", "Publisher", "build_publisher", "hub_names", "init_app"]

EXTENSION_KEY = "mercure_publisher"


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    registry: ModelRegistry,
    hub: Hub,
    settings: Settings,
    publish_settings: PublishSettings,
) -> Publisher:
    """Start publishing committed changes of ``spec``'s Mercure resources.

    Updates are written to ``registry``'s outbox tables and relayed to the hubs of
    ``publish_settings`` (read by :func:`app.create_app` with the names of
    :func:`hub_names`). Raises :class:`~app.config.errors.ConfigError` for a ``mercure``
    option that would publish what the hub reserves to itself
    (:func:`~app.publish.limits.check_options`).
    """
    check_options(spec)
    models = {
        registry.model(resource.name): resource
        for resource in spec.resources
        if resource.mercure.enabled
    }
    outbox = Outbox(registry.outbox_table, registry.lease_table)
    with app.app_context():
        outbox.bind(registry.db.engine)
    return build_publisher(
        app,
        spec,
        models,
        RegistryItemRenderer(registry),
        hub,
        settings,
        publish_settings,
        outbox,
        shared_hub=hub.transport.shared,
        max_update_size=hub.settings.max_update_size,
        dependents=dependents_of(spec, registry),
    )


def build_publisher(
    app: Flask,
    spec: ResourcesSpec,
    models: Mapping[type, ResourceSpec],
    renderer: ItemRenderer,
    hub: UpdateTarget,
    settings: Settings,
    publish_settings: PublishSettings,
    outbox: Outbox,
    *,
    shared_hub: bool = False,
    max_update_size: int | None = None,
    dependents: Mapping[type, Sequence[Dependent]] | None = None,
) -> Publisher:
    """Wire a publisher from explicit parts (``models``: model class -> resource spec;
    ``shared_hub``: the built-in hub's transport reaches every process's subscribers;
    ``max_update_size``: the built-in hub's ``MERCURE_MAX_UPDATE_SIZE``, ``None`` for no
    limit; ``dependents``: see :func:`dependents_of`)."""
    relays: dict[str, Relay] = {}
    discovery: dict[str, str] = {}
    limits: dict[str, UpdateLimit] = {}
    for name in {DEFAULT_HUB, *hub_names(spec)}:
        external = publish_settings.hubs.get(name)
        deliverer: Deliverer
        if external is None:
            limit = None if max_update_size is None else built_in_limit(max_update_size)
            deliverer = HubDeliverer(hub, limit)
            discovery[name] = BUILT_IN_DISCOVERY_URL
        else:
            limit = external_limit()
            deliverer = HttpDeliverer(external, publish_settings.publish_timeout)
            discovery[name] = external.subscribe_url
        if limit is not None:
            limits[name] = limit
        relays[name] = Relay(
            name,
            outbox,
            deliverer,
            immediate=external is None,
            local=external is None and not shared_hub,
            retry_min_delay=publish_settings.retry_min_delay,
            retry_max_delay=publish_settings.retry_max_delay,
        )
        relays[name].start()
    publisher = Publisher(outbox, relays, discovery, spec.resources, limits)
    publisher.tracker = Tracker(
        models,
        UpdateFactory(renderer, settings.public_url),
        publisher.stage,
        publisher.committed,
        dependents,
    )
    app.extensions[EXTENSION_KEY] = publisher
    return publisher


def dependents_of(spec: ResourcesSpec, registry: ModelRegistry) -> dict[type, list[Dependent]]:
    """Parent model -> the children its deletion changes in the database (``cascade`` or
    ``set_null``), where that leads to a resource that publishes: a publishing child, or a
    child whose own cascades reach one."""
    edges = [
        (relation.target, child.name, relation_column(relation), relation.on_delete)
        for child in spec.resources
        for relation in child.relations
        if relation.on_delete in ("cascade", "set_null")
    ]
    reaching = {resource.name for resource in spec.resources if resource.mercure.enabled}
    changed = True
    while changed:  # parents whose cascades reach a publishing resource
        changed = False
        for target, child, _column, on_delete in edges:
            if on_delete == "cascade" and child in reaching and target not in reaching:
                reaching.add(target)
                changed = True
    dependents: dict[type, list[Dependent]] = {}
    for target, child, column, on_delete in edges:
        publishing = spec.resource(child).mercure.enabled
        if publishing or (on_delete == "cascade" and child in reaching):
            dependents.setdefault(registry.model(target), []).append(
                (registry.model(child), column, on_delete)
            )
    return dependents


def hub_names(spec: ResourcesSpec) -> set[str]:
    """The hubs ``spec``'s resources name with ``mercure.hub``."""
    return {r.mercure.hub for r in spec.resources if r.mercure.enabled and r.mercure.hub}
