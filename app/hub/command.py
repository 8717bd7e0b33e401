"""``flask hub ...`` commands.

``flask hub token --publish '*' --subscribe 'https://example.com/books/{id}' --exp 1h``
prints a JWT signed with the hub's configured key (the publisher key when ``--publish`` is
given, else the subscriber key). HMAC keys sign directly; for RS/PS/ES/EdDSA the
configured key is public, so pass the private key with ``--private-key FILE``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
import jwt
from flask import current_app
from flask.cli import with_appcontext

from app.hub import EXTENSION_KEY
from app.hub.settings import HubSettings, HubSettingsError, parse_duration

__all__ = ["hub_command", "mint_token"]

hub_command = click.Group("hub", help="Mercure hub tools.")


def mint_token(
    key: str,
    algorithm: str,
    *,
    publish: tuple[str, ...] | None = None,
    subscribe: tuple[str, ...] | None = None,
    payload: Any = None,
    expires_in: float | None = None,
    expires_at: int | None = None,
) -> str:
    """Return a JWT carrying the ``mercure`` claim for the given selectors, expiring
    ``expires_in`` seconds from now or at ``expires_at`` (epoch seconds)."""
    mercure: dict[str, Any] = {}
    if publish is not None:
        mercure["publish"] = list(publish)
    if subscribe is not None:
        mercure["subscribe"] = list(subscribe)
    if payload is not None:
        mercure["payload"] = payload
    claims: dict[str, Any] = {"mercure": mercure}
    if expires_at is not None:
        claims["exp"] = expires_at
    elif expires_in:
        claims["exp"] = int(time.time() + expires_in)
    return jwt.encode(claims, key, algorithm=algorithm)


def _settings() -> HubSettings:
    hub = current_app.extensions.get(EXTENSION_KEY)
    if hub is None:
        raise click.ClickException("the Mercure hub is not mounted on this application")
    settings: HubSettings = hub.settings
    return settings


@hub_command.command("token")
@click.option("--publish", "publish", multiple=True, help="Selector allowed to publish (repeat).")
@click.option("--subscribe", "subscribe", multiple=True, help="Selector allowed to subscribe.")
@click.option("--payload", default=None, help="JSON value for mercure.payload.")
@click.option("--exp", "expires", default=None, help="Lifetime, e.g. 3600, 30m, 12h.")
@click.option(
    "--private-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="PEM private key, for asymmetric algorithms.",
)
@with_appcontext
def token_command(
    publish: tuple[str, ...],
    subscribe: tuple[str, ...],
    payload: str | None,
    expires: str | None,
    private_key: Path | None,
) -> None:
    """Mint a publisher and/or subscriber JWT with the hub's configured key."""
    if not publish and not subscribe:
        raise click.UsageError("give at least one --publish or --subscribe selector")
    settings = _settings()
    if publish:
        key, algorithm = settings.publisher_key, settings.publisher_algorithm
        if subscribe and (key, algorithm) != (
            settings.subscriber_key,
            settings.subscriber_algorithm,
        ):
            raise click.UsageError(
                "publisher and subscriber keys differ; mint one token with --publish and "
                "another with --subscribe"
            )
    else:
        key, algorithm = settings.subscriber_key, settings.subscriber_algorithm
    if private_key is not None:
        key = private_key.read_text(encoding="utf-8")
    elif not algorithm.startswith("HS"):
        raise click.UsageError(f"{algorithm} tokens need the signing key: pass --private-key")
    try:
        lifetime = parse_duration("--exp", expires) if expires else None
        parsed_payload = json.loads(payload) if payload is not None else None
    except (HubSettingsError, json.JSONDecodeError) as error:
        raise click.BadParameter(str(error)) from error
    if settings.development_key:
        click.echo("warning: signed with the public development key", err=True)
    click.echo(
        mint_token(
            key,
            algorithm,
            publish=publish or None,
            subscribe=subscribe or None,
            payload=parsed_payload,
            expires_in=lifetime,
        )
    )
