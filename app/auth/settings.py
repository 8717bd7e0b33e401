"""Authentication settings of the REST API, read once from the environment.

Variables:

- ``AUTH_JWT_KEY`` and ``AUTH_JWT_ALG`` (default ``HS256``; several may be listed, comma
  separated): the HMAC secret or PEM public key users' tokens are signed with; or
- ``AUTH_JWKS_URL``: an OpenID Connect provider's key set, fetched and cached
  (``AUTH_JWKS_LIFESPAN``, default 300s) and fetched again for an unknown ``kid`` (at most
  once per :attr:`AuthSettings.jwks_cooldown`, so forged ``kid`` headers cannot make every
  request wait on the provider); its tokens may use ``AUTH_JWT_ALG`` (default every RS,
  PS, ES and EdDSA algorithm, never HS), each key only with its own algorithm;
- ``AUTH_ISSUER`` and ``AUTH_AUDIENCE``: required ``iss`` and ``aud`` when set;
- ``AUTH_LEEWAY``: clock skew allowed on ``exp``/``nbf``/``iat`` (default 30s);
- ``AUTH_ROLES_CLAIM``: the claim holding the roles, a dotted path for nested claims
  (default ``roles``; ``realm_access.roles`` for Keycloak);
- ``AUTH_MERCURE_TOKEN_LIFETIME``: longest life of a subscriber token from ``/auth/mercure``
  (default 1h; never beyond the user's own token);
- ``AUTH_MERCURE_PRIVATE_KEY``: the PEM private key signing subscriber tokens when the hub's
  subscriber algorithm is asymmetric (HMAC keys sign directly).

Security: production has no default key: without ``AUTH_JWT_KEY`` or ``AUTH_JWKS_URL`` no
request is authenticated (and the app refuses to start when operations have rules); it
refuses the development keys, HMAC keys shorter than 32 bytes, and a key set without
``AUTH_AUDIENCE``. In
development the publicly known :data:`DEVELOPMENT_AUTH_KEY` is used, and a warning says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.environment import SUPPORTED_ALGORITHMS, Environment, variable
from app.hub.settings import DEVELOPMENT_JWT_KEY

__all__ = ["DEVELOPMENT_AUTH_KEY", "AuthSettings", "AuthSettingsError"]

logger = logging.getLogger(__name__)

DEVELOPMENT_AUTH_KEY = "!ChangeThisGatewayUserJWTSecretKey!"
"""Publicly known HS256 key for users' tokens in development, when no key is configured."""

MIN_HMAC_KEY_BYTES = 32
DEFAULT_ALGORITHMS = ("HS256",)
JWKS_ALGORITHMS = tuple(a for a in SUPPORTED_ALGORITHMS if not a.startswith("HS"))
DEFAULT_LEEWAY: float = variable("AUTH_LEEWAY").default
DEFAULT_JWKS_LIFESPAN: float = variable("AUTH_JWKS_LIFESPAN").default
DEFAULT_JWKS_COOLDOWN = 30.0
DEFAULT_ROLES_CLAIM: str = variable("AUTH_ROLES_CLAIM").default
DEFAULT_MERCURE_TOKEN_LIFETIME: float = variable("AUTH_MERCURE_TOKEN_LIFETIME").default


class AuthSettingsError(ValueError):
    """An authentication setting is unusable; the message names the variable and the fix."""


@dataclass(frozen=True)
class AuthSettings:
    """How users' bearer tokens are verified. Neither ``key`` nor ``jwks_url``: nobody is
    authenticated (every request is anonymous)."""

    key: str | None = None
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    jwks_url: str | None = None
    jwks_lifespan: float = DEFAULT_JWKS_LIFESPAN
    jwks_cooldown: float = DEFAULT_JWKS_COOLDOWN
    issuer: str | None = None
    audience: str | None = None
    leeway: float = DEFAULT_LEEWAY
    roles_claim: str = DEFAULT_ROLES_CLAIM
    mercure_token_lifetime: float = DEFAULT_MERCURE_TOKEN_LIFETIME
    mercure_private_key: str | None = None
    development_key: bool = False

    @property
    def configured(self) -> bool:
        return bool(self.key or self.jwks_url)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, production: bool = False
    ) -> AuthSettings:
        """Read ``environ`` (default: the process environment); raise
        :class:`AuthSettingsError` for an invalid value."""
        env = Environment(environ, AuthSettingsError)
        key = env.text("AUTH_JWT_KEY")
        jwks_url = env.text("AUTH_JWKS_URL")
        if key and jwks_url:
            raise AuthSettingsError("set AUTH_JWT_KEY or AUTH_JWKS_URL, not both")
        if jwks_url and urlsplit(jwks_url).scheme.lower() not in ("http", "https"):
            raise AuthSettingsError(
                f"AUTH_JWKS_URL={jwks_url!r} is not an http(s) URL; give the provider's "
                "jwks_uri, like https://idp.example/.well-known/jwks.json"
            )
        if not key and not jwks_url and env.raw("AUTH_JWT_ALG"):
            raise AuthSettingsError("AUTH_JWT_ALG is set without AUTH_JWT_KEY; set the key")
        development_key = False
        if not key and not jwks_url and not production:
            key, development_key = DEVELOPMENT_AUTH_KEY, True
            logger.warning(
                "USERS' TOKENS ARE CHECKED WITH THE PUBLIC DEVELOPMENT KEY %r: anyone can mint "
                "them. This is for development only; set AUTH_JWT_KEY or AUTH_JWKS_URL.",
                DEVELOPMENT_AUTH_KEY,
            )
        algorithms = env.algorithms(
            "AUTH_JWT_ALG", JWKS_ALGORITHMS if jwks_url else DEFAULT_ALGORITHMS
        )
        if jwks_url and any(a.startswith("HS") for a in algorithms):
            raise AuthSettingsError(
                "AUTH_JWT_ALG lists an HMAC algorithm with AUTH_JWKS_URL; a key set holds "
                "public keys: use RS*, PS*, ES* or EdDSA"
            )
        if key and len({_family(a) for a in algorithms}) > 1:
            raise AuthSettingsError(
                f"AUTH_JWT_ALG lists {', '.join(algorithms)}, but one AUTH_JWT_KEY serves one "
                "kind of algorithm: list only HS*, only RS*/PS*, only ES* or only EdDSA"
            )
        audience = env.text("AUTH_AUDIENCE")
        if production:
            _check_production(key, algorithms, jwks_url, audience)
        return cls(
            key=key,
            algorithms=algorithms,
            jwks_url=jwks_url,
            jwks_lifespan=env.seconds("AUTH_JWKS_LIFESPAN"),
            issuer=env.text("AUTH_ISSUER"),
            audience=audience,
            leeway=env.seconds("AUTH_LEEWAY"),
            roles_claim=env.text("AUTH_ROLES_CLAIM") or DEFAULT_ROLES_CLAIM,
            mercure_token_lifetime=env.seconds("AUTH_MERCURE_TOKEN_LIFETIME"),
            mercure_private_key=env.text("AUTH_MERCURE_PRIVATE_KEY"),
            development_key=development_key,
        )


def _check_production(
    key: str | None, algorithms: tuple[str, ...], jwks_url: str | None, audience: str | None
) -> None:
    """Production refuses publicly known or guessable HMAC keys, and a provider's key set
    without an audience (which would accept the tokens it issues to any other client)."""
    if key and algorithms[0].startswith("HS"):
        if key in (DEVELOPMENT_AUTH_KEY, DEVELOPMENT_JWT_KEY):
            raise AuthSettingsError(
                "AUTH_JWT_KEY is a publicly known development key; in production set a "
                "random secret, for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'"
            )
        if len(key.encode()) < MIN_HMAC_KEY_BYTES:
            raise AuthSettingsError(
                f"AUTH_JWT_KEY has {len(key.encode())} bytes; {algorithms[0]} needs at least "
                f"{MIN_HMAC_KEY_BYTES} in production (RFC 7518): set a longer random secret"
            )
    if jwks_url and audience is None:
        raise AuthSettingsError(
            "AUTH_JWKS_URL is set without AUTH_AUDIENCE: every token the provider issues to "
            "any of its clients would be accepted; set AUTH_AUDIENCE (and AUTH_ISSUER)"
        )


def _family(algorithm: str) -> str:
    """The kind of key ``algorithm`` verifies with: HMAC secret, RSA, EC or OKP."""
    return {"PS": "RS"}.get(algorithm[:2], algorithm[:2])
