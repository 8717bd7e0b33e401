"""Publishing settings: which hubs updates go to, read once from the environment.

All defaults live here. The default hub is the built-in one unless ``MERCURE_PUBLISH_URL``
is set (the names API Platform and Symfony use):

- ``MERCURE_PUBLISH_URL``: where to ``POST`` updates (an internal URL is fine);
- ``MERCURE_SUBSCRIBE_URL``: the public URL clients subscribe to, advertised in
  ``Link: <...>; rel="mercure"`` (default: the publish URL);
- ``MERCURE_JWT_TOKEN``: a publisher JWT whose ``mercure.publish`` claim allows the topics;
- ``MERCURE_PROTOCOL_VERSION``: the Mercure protocol the hub speaks, ``0.x`` (default) or
  ``1.0``. For ``1.0`` the token must be a JWT access token (``typ: at+jwt``) whose
  ``authorization_details`` grant ``publish`` on the topics (``flask hub token --protocol
  1.0`` mints one for this app's hub); a 0.x token for a 1.0 hub, or the reverse, is
  refused at start-up, since that hub would refuse every update.

A resource's ``mercure.hub: NAME`` picks a named hub, configured the same way with
``MERCURE_HUBS_<NAME>_PUBLISH_URL``, ``MERCURE_HUBS_<NAME>_SUBSCRIBE_URL`` and
``MERCURE_HUBS_<NAME>_JWT_TOKEN`` and ``MERCURE_HUBS_<NAME>_PROTOCOL_VERSION`` (``NAME``
upper-cased, other characters than letters and
digits become ``_``). ``default`` names the default hub.

Every update goes through the transactional outbox (:mod:`app.publish.outbox`); a hub
that cannot take it is retried with exponential backoff from
``MERCURE_PUBLISH_RETRY_MIN_DELAY`` (seconds, 0.5) up to ``MERCURE_PUBLISH_RETRY_MAX_DELAY``
(60); ``MERCURE_PUBLISH_TIMEOUT`` (10) bounds one attempt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.environment import Environment, variable
from app.hub.oauth import is_access_token

DEFAULT_HUB = "default"
BUILT_IN_DISCOVERY_URL = "/.well-known/mercure"
DEFAULT_RETRY_MIN_DELAY: float = variable("MERCURE_PUBLISH_RETRY_MIN_DELAY").default
DEFAULT_RETRY_MAX_DELAY: float = variable("MERCURE_PUBLISH_RETRY_MAX_DELAY").default
DEFAULT_PUBLISH_TIMEOUT: float = variable("MERCURE_PUBLISH_TIMEOUT").default


class PublishSettingsError(ValueError):
    """Publishing cannot be configured as asked; the message names the variable."""


@dataclass(frozen=True)
class ExternalHub:
    """A Mercure hub reached over HTTP as a standard publisher."""

    name: str
    publish_url: str
    subscribe_url: str
    jwt_token: str
    protocol_version: str = "0.x"
    """The Mercure protocol the hub speaks: ``0.x`` or ``1.0``."""


@dataclass(frozen=True)
class PublishSettings:
    """``hubs`` holds the external hubs by name; a missing ``default`` means built-in."""

    hubs: Mapping[str, ExternalHub]
    retry_min_delay: float = DEFAULT_RETRY_MIN_DELAY
    retry_max_delay: float = DEFAULT_RETRY_MAX_DELAY
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, hub_names: Iterable[str] = ()
    ) -> PublishSettings:
        """Read the default hub and every named hub in ``hub_names`` from ``environ``
        (default: the process environment).

        Raises :class:`PublishSettingsError` for a named hub without a publish URL, a
        publish URL without a token, or a bad number.
        """
        env = Environment(environ, PublishSettingsError)
        hubs: dict[str, ExternalHub] = {}
        default = _external(env, DEFAULT_HUB, None)
        if default is not None:
            hubs[DEFAULT_HUB] = default
        for name in sorted(set(hub_names) - {DEFAULT_HUB}):
            hub = _external(env, name, env_name(name))
            if hub is None:
                prefix = f"MERCURE_HUBS_{env_name(name)}_"
                raise PublishSettingsError(
                    f"resources use the Mercure hub {name!r} but {prefix}PUBLISH_URL is not set; "
                    f"set {prefix}PUBLISH_URL and {prefix}JWT_TOKEN, or remove 'hub: {name}'"
                )
            hubs[name] = hub
        return cls(
            hubs=hubs,
            retry_min_delay=env.seconds("MERCURE_PUBLISH_RETRY_MIN_DELAY"),
            retry_max_delay=env.seconds("MERCURE_PUBLISH_RETRY_MAX_DELAY"),
            publish_timeout=env.seconds("MERCURE_PUBLISH_TIMEOUT"),
        )


def env_name(hub_name: str) -> str:
    """``"eu-west"`` -> ``"EU_WEST"``: the ``<NAME>`` part of a named hub's variables."""
    return re.sub(r"[^A-Za-z0-9]", "_", hub_name).upper()


def _external(env: Environment, name: str, part: str | None) -> ExternalHub | None:
    """The hub ``name`` from ``MERCURE_...`` (``part`` None) or ``MERCURE_HUBS_<part>_...``."""
    prefix = "MERCURE_" if part is None else "MERCURE_HUBS_<NAME>_"
    parts = {} if part is None else {"NAME": part}
    shown = "MERCURE_" if part is None else f"MERCURE_HUBS_{part}_"
    version = env.choice(f"{prefix}PROTOCOL_VERSION", **parts)  # checked even if unused
    publish_url = env.text(f"{prefix}PUBLISH_URL", **parts)
    if not publish_url:
        return None
    token = env.text(f"{prefix}JWT_TOKEN", **parts)
    if not token:
        raise PublishSettingsError(
            f"{shown}PUBLISH_URL is set but {shown}JWT_TOKEN is empty; set it to a "
            "publisher JWT whose mercure.publish claim allows your topics "
            "(flask hub token can mint one for this app's hub)"
        )
    subscribe_url = env.text(f"{prefix}SUBSCRIBE_URL", **parts) or publish_url
    if (version == "1.0") != is_access_token(token):
        wanted = (
            "a Mercure 1.0 access token (typ at+jwt with authorization_details; flask hub "
            "token --protocol 1.0 mints one for this app's hub)"
            if version == "1.0"
            else "a 0.x publisher JWT with a mercure.publish claim"
        )
        raise PublishSettingsError(
            f"{shown}JWT_TOKEN does not fit {shown}PROTOCOL_VERSION={version}: the hub would "
            f"refuse every update; set it to {wanted}, or set the protocol the hub speaks"
        )
    return ExternalHub(name, publish_url, subscribe_url, token, version)
