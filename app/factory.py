"""The gateway's composition root.

:func:`create_app` is the only composition root: it reads settings, loads and validates
the resources file, and wires the database models, REST API, hub and publishing bridge
together through their ``init_app`` functions. Nothing connects or reads the environment
at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial

import click
from flask import Flask

from app import (
    api,
    asyncapi,
    auth,
    cli,
    errors,
    headers,
    health,
    hub,
    lifecycle,
    metrics,
    models,
    openapi,
    publish,
    request_id,
    web,
)
from app.access.posture import production_problems
from app.application import Application
from app.auth.settings import AuthSettings, AuthSettingsError
from app.config import ConfigError, ResourcesSpec, load_resources
from app.hub.http import HUB_PATH
from app.hub.metrics import NO_METRICS
from app.hub.settings import HubSettings, HubSettingsError
from app.metrics import GatewayMetrics, MetricsSettings, MetricsSettingsError
from app.models import drift
from app.publish.outbox import backlog
from app.publish.payload import origin
from app.publish.settings import PublishSettings, PublishSettingsError
from app.settings import Settings, SettingsError

__all__ = ["STARTUP_ERRORS", "create_app"]

STARTUP_ERRORS = (
    ConfigError,
    SettingsError,
    HubSettingsError,
    PublishSettingsError,
    AuthSettingsError,
    MetricsSettingsError,
)
"""What :func:`create_app` raises for a broken resources file or unusable settings."""


def create_app(
    settings: Settings | None = None,
    *,
    spec: ResourcesSpec | None = None,
    hub_settings: HubSettings | None = None,
    auth_settings: AuthSettings | None = None,
    publish_settings: PublishSettings | None = None,
    environ: Mapping[str, str] | None = None,
) -> Flask:
    """Build a gateway application.

    This is the one way configuration enters: anything not given is read from ``environ``
    (default: the process environment) through the table of :mod:`app.environment`, and
    each part receives what it needs as arguments (nothing is read back from
    ``app.config``, which holds only Flask-SQLAlchemy's database URL).
    Raises one of :data:`STARTUP_ERRORS`, whose message says what to fix, for a broken
    resources file or unusable settings, before any request can be served. Under the
    ``flask`` command (``flask db upgrade``, ``flask hub token``) that message is printed
    as the command's error, without a traceback, and the command exits with status 1.
    """
    try:
        return _build(settings, spec, hub_settings, auth_settings, publish_settings, environ)
    except STARTUP_ERRORS as error:
        if click.get_current_context(silent=True) is None:
            raise
        raise click.ClickException(f"cannot build the gateway:\n{error}") from None


def _build(
    settings: Settings | None,
    spec: ResourcesSpec | None,
    hub_settings: HubSettings | None,
    auth_settings: AuthSettings | None,
    publish_settings: PublishSettings | None,
    environ: Mapping[str, str] | None,
) -> Flask:
    settings = settings or Settings.from_env(environ)
    if settings.log_format == "json":
        # Before anything else is read: its warnings (a flask command's too) are JSON lines.
        request_id.configure_json_logs()
    spec = with_extra_attributes(
        spec or load_resources(settings.resources_path, environ), settings.allow_extra_attributes
    )
    hub_settings = hub_settings or HubSettings.from_env(
        environ, production=settings.production, public_url=settings.public_url
    )
    auth_settings = auth_settings or AuthSettings.from_env(environ, production=settings.production)
    publish_settings = publish_settings or PublishSettings.from_env(
        environ, publish.hub_names(spec)
    )
    metrics_settings = MetricsSettings.from_env(environ, production=settings.production)
    if settings.production:
        problems = production_problems(spec, auth_settings.configured)
        if not settings.public_url:
            problems.append(
                "PUBLIC_URL is not set: the origin of every topic, IRI and subscriber token "
                "would come from each request's Host header, which clients choose; set it to "
                "the public origin, for example PUBLIC_URL=https://shop.example"
            )
        if auth_settings.key and auth_settings.key in (
            hub_settings.publisher_key,
            hub_settings.subscriber_key,
        ):
            problems.append(
                "AUTH_JWT_KEY equals a hub key: whoever holds users' tokens' key could mint "
                "hub tokens; give the users' tokens a key of their own"
            )
        if problems:
            raise SettingsError("production refuses to start:\n" + "\n".join(problems))

    application = Application("app", instance_relative_config=True)
    application.config["SQLALCHEMY_DATABASE_URI"] = settings.database_url

    request_id.init_app(application, json_logs=settings.log_format == "json")
    errors.init_app(application)
    registry = models.init_app(application, spec)
    drift.init_app(application)
    gateway_metrics = GatewayMetrics()
    the_hub = hub.init_app(
        application,
        hub_settings,
        metrics=gateway_metrics if metrics_settings.enabled else NO_METRICS,
    )
    publisher = publish.init_app(application, spec, registry, the_hub, settings, publish_settings)
    users = auth.init_app(
        application,
        spec,
        auth_settings,
        hub_settings,
        partial(origin, settings.public_url),
        HUB_PATH,
    )
    api.init_app(
        application,
        spec,
        registry,
        publisher.discovery_url_for,
        users.current_user,
        cors_origins=settings.cors_allowed_origins,
        max_body_size=settings.max_body_size,
        public_url=settings.public_url,
    )
    openapi.init_app(application, spec)
    asyncapi.init_app(
        application,
        spec,
        publisher.discovery_url_for,
        partial(origin, settings.public_url),
        hub_settings.cookie_name,
        public_url=settings.public_url,
    )
    web.init_app(
        application,
        spec,
        public_url=settings.public_url,
        cookie_name=hub_settings.cookie_name,
        access_token_cookie=hub_settings.access_token_cookie if hub_settings.v1 else None,
    )
    headers.init_app(
        application,
        connect_to=(publisher.discovery_url_for(r.name) for r in spec.resources),
        eval_paths=(asyncapi.PAGE_PATH,),
    )
    metrics.init_app(
        application,
        metrics_settings,
        gateway_metrics,
        lambda: backlog(publisher.outbox.engine),
        publisher.relays,
    )
    health.init_app(application, registry.db, the_hub.transport)
    cli.init_app(application, production=settings.production)
    lifecycle.register(application)
    return application


def with_extra_attributes(spec: ResourcesSpec, allow: bool) -> ResourcesSpec:
    """``spec`` with ``allow`` as the ``allow_extra_attributes`` of every resource that
    does not set its own (the ``ALLOW_EXTRA_ATTRIBUTES`` setting)."""
    resources = tuple(
        replace(r, allow_extra_attributes=allow) if r.allow_extra_attributes is None else r
        for r in spec.resources
    )
    return replace(spec, resources=resources)
