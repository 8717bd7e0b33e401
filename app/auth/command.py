"""``flask auth token``: mint a user's bearer token.

``flask auth token --sub alice --role admin --exp 1h`` prints a JWT signed with the
configured ``AUTH_JWT_KEY`` (HMAC) or, for asymmetric algorithms, the PEM private key given
with ``--private-key``. Meant for development and tests: production users get their
tokens from the identity provider.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
import jwt

from app.auth.settings import AuthSettings
from app.hub.settings import HubSettingsError, parse_duration

__all__ = ["auth_command", "mint_user_token"]


def mint_user_token(
    key: str,
    algorithm: str,
    subject: str,
    roles: tuple[str, ...] = (),
    *,
    expires_in: float | None = None,
    roles_claim: str = "roles",
    **claims: Any,
) -> str:
    """A user token: ``sub``, the roles at ``roles_claim`` (a dotted path), ``exp``."""
    payload: dict[str, Any] = {"sub": subject, "iat": int(time.time()), **claims}
    target = payload
    *parents, leaf = roles_claim.split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[leaf] = list(roles)
    if expires_in:
        payload["exp"] = int(time.time() + expires_in)
    return jwt.encode(payload, key, algorithm=algorithm)


def auth_command(settings: AuthSettings) -> click.Group:
    """The ``flask auth`` group, for users' tokens verified as ``settings`` say."""
    group = click.Group("auth", help="Users' bearer tokens.")
    group.add_command(_token_command(settings))
    return group


def _token_command(settings: AuthSettings) -> click.Command:
    @click.command("token")
    @click.option("--sub", "subject", required=True, help="The user's id (the token's sub).")
    @click.option("--role", "roles", multiple=True, help="A role of the user (repeat).")
    @click.option("--exp", "expires", default="1h", show_default=True, help="Lifetime: 30m, 12h.")
    @click.option(
        "--private-key",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="PEM private key, for asymmetric algorithms.",
    )
    def token_command(
        subject: str, roles: tuple[str, ...], expires: str, private_key: Path | None
    ) -> None:
        """Mint a user's bearer token with the configured key."""
        if settings.jwks_url:
            raise click.UsageError("users' keys come from AUTH_JWKS_URL: ask the identity provider")
        if not settings.key:
            raise click.UsageError("no AUTH_JWT_KEY is configured")
        algorithm = settings.algorithms[0]
        key = settings.key
        if private_key is not None:
            key = private_key.read_text(encoding="utf-8")
        elif not algorithm.startswith("HS"):
            raise click.UsageError(f"{algorithm} tokens need the signing key: pass --private-key")
        try:
            lifetime = parse_duration("--exp", expires)
        except HubSettingsError as error:
            raise click.BadParameter(str(error)) from error
        if settings.development_key:
            click.echo("warning: signed with the public development key", err=True)
        claims: dict[str, Any] = {}
        if settings.issuer:
            claims["iss"] = settings.issuer
        if settings.audience:
            claims["aud"] = settings.audience
        click.echo(
            mint_user_token(
                key,
                algorithm,
                subject,
                roles,
                expires_in=lifetime,
                roles_claim=settings.roles_claim,
                **claims,
            )
        )

    return token_command
