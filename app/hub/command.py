"""``flask hub ...`` commands.

``flask hub token --publish '*' --subscribe 'https://example.com/books/{id}' --exp 1h``
prints a 0.x JWT signed with the hub's configured key (the publisher key when ``--publish`` is
given, else the subscriber key). HMAC keys sign directly; for RS/PS/ES/EdDSA the
configured key is public, so pass the private key with ``--private-key FILE``.
``--protocol 1.0`` prints a 1.0 access token instead (issuer ``MERCURE_ISSUER``, audience
the hub's resource identifier, ``--pattern`` for URL pattern matchers, 1 hour by default).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import jwt
from flask import current_app
from flask.cli import with_appcontext

from app.hub import EXTENSION_KEY
from app.hub.matchers import EXACT, URLPATTERN, Matcher
from app.hub.oauth import AUTHORIZATION_DETAIL_TYPE
from app.hub.settings import HubSettings, HubSettingsError, parse_duration

__all__ = ["hub_command", "mint_access_token", "mint_token"]

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


def mint_access_token(
    key: str,
    algorithm: str,
    *,
    issuer: str,
    audience: str,
    publish: Sequence[Matcher] = (),
    subscribe: Sequence[Matcher] = (),
    payload: dict[str, Any] | None = None,
    subject: str = "",
    expires_in: float = 3600.0,
    expires_at: int | None = None,
) -> str:
    """Return a Mercure 1.0 JWT access token (``typ: at+jwt``, RFC 9068) from ``issuer``
    for the hub ``audience``, granting ``publish`` and ``subscribe`` on the given
    matchers (one authorization detail each; ``payload`` goes with ``subscribe``)."""
    now = int(time.time())
    details: list[dict[str, Any]] = []
    for action, matchers in (("publish", publish), ("subscribe", subscribe)):
        if not matchers:
            continue
        detail: dict[str, Any] = {
            "type": AUTHORIZATION_DETAIL_TYPE,
            "actions": [action],
            "topics": [{"match": m.value, "match_type": m.type} for m in matchers],
        }
        if action == "subscribe" and payload is not None:
            detail["payload"] = payload
        details.append(detail)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or issuer,
        "client_id": issuer,
        "iat": now,
        "exp": expires_at if expires_at is not None else now + int(expires_in),
        "jti": f"urn:uuid:{uuid.uuid4()}",
        "authorization_details": details,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "at+jwt"})


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
    "--protocol",
    type=click.Choice(["0.x", "1.0"]),
    default="0.x",
    help="0.x: a mercure claim; 1.0: an at+jwt access token with authorization_details.",
)
@click.option(
    "--pattern",
    is_flag=True,
    help="1.0: the --publish/--subscribe values are URL patterns (default: exact topics).",
)
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
    protocol: str,
    pattern: bool,
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
    if protocol == "1.0":
        kind = URLPATTERN if pattern else EXACT
        click.echo(
            mint_access_token(
                key,
                algorithm,
                issuer=settings.local_issuer,
                audience=settings.resource,
                publish=[Matcher(kind, value) for value in publish],
                subscribe=[Matcher(kind, value) for value in subscribe],
                payload=parsed_payload,
                expires_in=lifetime or 3600.0,
            )
        )
        return
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
