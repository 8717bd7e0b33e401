"""Hub settings, read from the environment with the reference hub's variable names.

:meth:`HubSettings.from_env` is called by the app factory only; the hub receives the
frozen value explicitly. The variables (``MERCURE_JWT_KEY``, ``MERCURE_HEARTBEAT``,
``MERCURE_TRANSPORT_URL``...), their types, defaults and meanings are declared in the
table of :mod:`app.environment` (component ``hub``), which parses them; this module
applies the rules that join several of them.

Sizes are bytes, as a plain number or with a binary unit (see :func:`parse_size`). The
size of an update is :func:`app.hub.size.update_size`: its SSE frame, what every
subscriber receives and the history keeps, plus its topics. Past the URI template
limits (see :mod:`app.hub.topics`) a subscription is refused with a 400 naming the
setting, and a template in a token's claim matches only itself.

With ``MERCURE_CORS_ORIGINS`` unset (or empty), the hub allows the REST API's
``CORS_ALLOWED_ORIGINS``: one setting covers both.

Security: production refuses to start without a key for each role (or a JWKS file), or
with the development key; in development a missing key falls back to
:data:`DEVELOPMENT_JWT_KEY`, a publicly known secret, and a warning says so loudly.
``none`` is never an accepted algorithm.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.environment import (
    SUPPORTED_ALGORITHMS,
    Algorithm,
    Environment,
    Secret,
    parse_size,
    variable,
)
from app.environment import parse_duration as _parse_duration
from app.hub.topics import DEFAULT_LIMITS, TemplateLimits

__all__ = [
    "DEVELOPMENT_JWT_KEY",
    "SUPPORTED_ALGORITHMS",
    "HubSettings",
    "HubSettingsError",
    "IssuerSettings",
    "parse_duration",
    "parse_size",
]

logger = logging.getLogger(__name__)

DEVELOPMENT_JWT_KEY = "!ChangeThisMercureHubJWTSecretKey!"
"""Publicly known HS256 key used in development when no key is configured."""

DEFAULT_ALGORITHM: str = variable("MERCURE_JWT_ALG").default
DEFAULT_HEARTBEAT: float = variable("MERCURE_HEARTBEAT").default
DEFAULT_WRITE_TIMEOUT: float = variable("MERCURE_WRITE_TIMEOUT").default
DEFAULT_DISPATCH_TIMEOUT: float = variable("MERCURE_DISPATCH_TIMEOUT").default
DEFAULT_HISTORY_SIZE: int = variable("MERCURE_HISTORY_SIZE").default
DEFAULT_QUEUE_SIZE: int = variable("MERCURE_SUBSCRIBER_QUEUE_SIZE").default
DEFAULT_QUEUE_BYTES: int = variable("MERCURE_SUBSCRIBER_QUEUE_BYTES").default
DEFAULT_HISTORY_BYTES: int = variable("MERCURE_HISTORY_BYTES").default
"""Bytes of updates the in-memory history keeps at most (``MERCURE_HISTORY_BYTES``)."""
DEFAULT_MAX_UPDATE_SIZE: int = variable("MERCURE_MAX_UPDATE_SIZE").default
"""The largest update the hub takes (``MERCURE_MAX_UPDATE_SIZE``): the publish form's own
cap, as Go's ``ParseForm`` reads it. An update is about as large as its form, so one the
endpoint reads is refused mainly when the line breaks of its data (3 bytes in the form,
7 in the frame) make its frame larger."""
DEFAULT_COOKIE_NAME: str = variable("MERCURE_COOKIE_NAME").default
MAX_TOPICS = 1000


class HubSettingsError(Exception):
    """Hub settings are unusable; the message names the variable and how to fix it."""


def parse_duration(name: str, raw: str) -> float:
    """Parse ``raw`` (``40s``, ``10m``, ``1h30m``, ``500ms`` or plain seconds) from ``name``;
    :class:`HubSettingsError` naming it otherwise."""
    try:
        return _parse_duration(name, raw)
    except ValueError as error:
        raise HubSettingsError(str(error)) from None


PROTOCOL_0X = "0.x"
PROTOCOL_1 = "1.0"
PROTOCOLS = (PROTOCOL_0X, PROTOCOL_1)
DEFAULT_RESOURCE = "http://localhost:8000/.well-known/mercure"
"""The hub's resource identifier in development when neither
``MERCURE_RESOURCE_IDENTIFIER`` nor the gateway's ``PUBLIC_URL`` gives it."""
DEFAULT_ACCESS_TOKEN_COOKIE = "__Secure-mercure_access_token"


@dataclass(frozen=True)
class IssuerSettings:
    """A trusted issuer of 1.0 access tokens and its keys (``MERCURE_ISSUERS``).

    Exactly one of ``key`` (an HMAC secret or a PEM public key), ``jwks_url`` (an
    authorization server's JWK Set, fetched and cached) or ``jwks_file``.
    """

    identifier: str
    algorithms: tuple[str, ...]
    key: str | None = None
    jwks_url: str | None = None
    jwks_file: Path | None = None
    authorization_server: bool = False
    """Advertised in the protected resource metadata's ``authorization_servers``."""


def _issuers(env: Environment) -> tuple[IssuerSettings, ...]:
    raw = env.text("MERCURE_ISSUERS")
    if not raw:
        return ()
    example = (
        'e.g. MERCURE_ISSUERS=\'[{"issuer": "https://as.example", "jwks_url": '
        '"https://as.example/jwks.json", "algorithms": ["RS256"]}]\''
    )
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise HubSettingsError(f"MERCURE_ISSUERS is not JSON ({error}); {example}") from None
    if not isinstance(entries, list):
        raise HubSettingsError(f"MERCURE_ISSUERS must be a JSON array of objects; {example}")
    issuers = []
    for index, entry in enumerate(entries):
        where = f"MERCURE_ISSUERS[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("issuer"), str):
            raise HubSettingsError(f'{where} needs an "issuer" string; {example}')
        sources = [name for name in ("key", "jwks_url", "jwks_file") if entry.get(name)]
        if len(sources) != 1:
            raise HubSettingsError(
                f'{where} needs exactly one of "key", "jwks_url" or "jwks_file"; {example}'
            )
        algorithms = entry.get("algorithms") or [DEFAULT_ALGORITHM]
        if not isinstance(algorithms, list):
            raise HubSettingsError(f'{where}: "algorithms" must be an array of names')
        try:
            checked = tuple(Algorithm().parse(where, str(name)) for name in algorithms)
        except ValueError as problem:
            raise HubSettingsError(str(problem)) from None
        jwks_file = entry.get("jwks_file")
        if jwks_file and not Path(jwks_file).is_file():
            raise HubSettingsError(f"{where}: jwks_file {jwks_file!r} is not a readable file")
        issuers.append(
            IssuerSettings(
                identifier=entry["issuer"],
                algorithms=checked,
                key=Secret().parse(where, entry["key"]) if entry.get("key") else None,
                jwks_url=entry.get("jwks_url") or None,
                jwks_file=Path(jwks_file) if jwks_file else None,
                authorization_server=bool(entry.get("authorization_server")),
            )
        )
    return tuple(issuers)


def _protocols(env: Environment) -> tuple[str, ...]:
    raw = env.text("MERCURE_PROTOCOLS")
    if raw is None:
        return PROTOCOLS
    names = tuple(dict.fromkeys(part for part in re.split(r"[\s,]+", raw.strip()) if part))
    unknown = [name for name in names if name not in PROTOCOLS]
    if unknown or not names:
        raise HubSettingsError(
            f'MERCURE_PROTOCOLS={raw!r}: use 1.0 (refuse 0.x clients) or "0.x 1.0" (both)'
        )
    return names


def _resource(env: Environment, public_url: str | None) -> str:
    raw = env.text("MERCURE_RESOURCE_IDENTIFIER")  # an absolute http(s) URL (HttpUrl)
    if not raw:
        if public_url:
            return public_url.rstrip("/") + "/.well-known/mercure"
        return DEFAULT_RESOURCE
    return raw


@dataclass(frozen=True)
class HubSettings:
    """Settings of the built-in hub. Durations are seconds; 0 disables a timer."""

    publisher_key: str = DEVELOPMENT_JWT_KEY
    publisher_algorithm: str = DEFAULT_ALGORITHM
    subscriber_key: str = DEVELOPMENT_JWT_KEY
    subscriber_algorithm: str = DEFAULT_ALGORITHM
    publisher_jwks_file: Path | None = None
    subscriber_jwks_file: Path | None = None
    anonymous: bool = True
    cors_origins: tuple[str, ...] = ()
    publish_origins: tuple[str, ...] = ()
    heartbeat: float = DEFAULT_HEARTBEAT
    write_timeout: float = DEFAULT_WRITE_TIMEOUT
    dispatch_timeout: float = DEFAULT_DISPATCH_TIMEOUT
    jwt_leeway: float = 0.0
    """``MERCURE_JWT_LEEWAY``: clock skew allowed on tokens' ``exp`` and ``nbf``."""
    history_size: int = DEFAULT_HISTORY_SIZE
    history_bytes: int = DEFAULT_HISTORY_BYTES
    """``MERCURE_HISTORY_BYTES``: the in-memory history's bound in bytes of updates."""
    max_update_size: int = DEFAULT_MAX_UPDATE_SIZE
    """``MERCURE_MAX_UPDATE_SIZE``: the largest update published, over HTTP or by the
    gateway; a larger one is refused (413), never stored or delivered."""
    queue_size: int = DEFAULT_QUEUE_SIZE
    queue_bytes: int = DEFAULT_QUEUE_BYTES
    """``MERCURE_SUBSCRIBER_QUEUE_BYTES``: bytes of frames one subscriber may have waiting
    before it is disconnected (an empty queue always takes one update)."""
    max_topics: int = MAX_TOPICS
    template_limits: TemplateLimits = DEFAULT_LIMITS
    """``MERCURE_TOPIC_TEMPLATE_MAX_LENGTH``, ``MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES`` and
    ``MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION``: how large URI template selectors may be."""
    subscriptions: bool = False
    cookie_name: str = DEFAULT_COOKIE_NAME
    ui: bool = False
    transport_url: str | None = None
    development_key: bool = False
    protocols: tuple[str, ...] = PROTOCOLS
    """``MERCURE_PROTOCOLS``: the protocol versions the hub speaks (``0.x``, ``1.0``)."""
    resource: str = DEFAULT_RESOURCE
    """``MERCURE_RESOURCE_IDENTIFIER``: the hub's OAuth resource identifier (its public URL):
    the ``aud`` of 1.0 access tokens and the base URL of relative URL patterns."""
    issuer: str = ""
    """``MERCURE_ISSUER``: the issuer of 1.0 tokens signed with the hub's own publisher
    and subscriber keys (default: :attr:`resource`)."""
    issuers: tuple[IssuerSettings, ...] = ()
    """``MERCURE_ISSUERS``: other trusted issuers of 1.0 access tokens."""
    access_token_cookie: str = DEFAULT_ACCESS_TOKEN_COOKIE
    """``MERCURE_ACCESS_TOKEN_COOKIE``: the cookie carrying 1.0 access tokens."""

    @property
    def legacy(self) -> bool:
        """Whether 0.x clients are served."""
        return PROTOCOL_0X in self.protocols

    @property
    def v1(self) -> bool:
        """Whether 1.0 clients are served."""
        return PROTOCOL_1 in self.protocols

    @property
    def local_issuer(self) -> str:
        """The issuer of the tokens the hub's own keys sign."""
        return self.issuer or self.resource

    @property
    def effective_transport_url(self) -> str:
        """The transport URL, defaulting to the in-memory one with ``history_size`` and
        ``history_bytes``."""
        if self.transport_url:
            return self.transport_url
        url = f"memory://?history_size={self.history_size}"
        if self.history_bytes != DEFAULT_HISTORY_BYTES:  # the URL's default otherwise
            url += f"&history_bytes={self.history_bytes}"
        return url

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        production: bool = False,
        public_url: str | None = None,
    ) -> HubSettings:
        """Read settings from ``environ`` (default: the process environment).

        ``public_url`` (the gateway's ``PUBLIC_URL``) gives the default resource
        identifier, ``<public_url>/.well-known/mercure``.

        Raises :class:`HubSettingsError` for any invalid value, and in production when a
        role has neither a key nor a JWKS file.
        """
        env = Environment(environ, HubSettingsError)
        shared_key = env.text("MERCURE_JWT_KEY")
        shared_jwks = env.path("MERCURE_JWKS_FILE")
        shared_algorithm = env.algorithm("MERCURE_JWT_ALG")
        development_key = False
        keys: dict[str, str] = {}
        jwks: dict[str, Path | None] = {}
        for role in ("PUBLISHER", "SUBSCRIBER"):
            key = env.text(f"MERCURE_{role}_JWT_KEY") or shared_key
            jwks_file = env.path(f"MERCURE_{role}_JWKS_FILE") or shared_jwks
            jwks[role] = jwks_file
            if jwks_file and not jwks_file.is_file():
                raise HubSettingsError(
                    f"MERCURE_{role}_JWKS_FILE={str(jwks_file)!r} is not a readable file"
                )
            if not key and not jwks_file:
                if production:
                    raise HubSettingsError(
                        f"no {role.lower()} JWT key is configured; in production set "
                        f"MERCURE_{role}_JWT_KEY (or MERCURE_JWT_KEY for both roles, or "
                        f"MERCURE_{role}_JWKS_FILE)"
                    )
                key = DEVELOPMENT_JWT_KEY
                development_key = True
            elif production and key == DEVELOPMENT_JWT_KEY:
                raise HubSettingsError(
                    f"the {role.lower()} JWT key is the publicly known development key; in "
                    f"production set MERCURE_{role}_JWT_KEY (or MERCURE_JWT_KEY) to a random "
                    "secret"
                )
            keys[role] = key or ""
        publisher_algorithm = env.algorithm("MERCURE_PUBLISHER_JWT_ALG", shared_algorithm)
        subscriber_algorithm = env.algorithm("MERCURE_SUBSCRIBER_JWT_ALG", shared_algorithm)
        if development_key:
            if publisher_algorithm != DEFAULT_ALGORITHM or subscriber_algorithm != (
                DEFAULT_ALGORITHM
            ):
                raise HubSettingsError(
                    "a JWT algorithm is configured without its key; set MERCURE_PUBLISHER_JWT_KEY "
                    "and MERCURE_SUBSCRIBER_JWT_KEY (or MERCURE_JWT_KEY)"
                )
            logger.warning(
                "MERCURE HUB IS USING THE PUBLIC DEVELOPMENT JWT KEY %r: anyone can mint tokens "
                "for it. This is for development only; set MERCURE_JWT_KEY (or "
                "MERCURE_PUBLISHER_JWT_KEY and MERCURE_SUBSCRIBER_JWT_KEY) before exposing "
                "the hub.",
                DEVELOPMENT_JWT_KEY,
            )
        template_limits = TemplateLimits(
            max_length=env.integer("MERCURE_TOPIC_TEMPLATE_MAX_LENGTH"),
            max_variables=env.integer("MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES"),
            max_templates=env.integer("MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION"),
        )
        return cls(
            publisher_key=keys["PUBLISHER"],
            publisher_algorithm=publisher_algorithm,
            subscriber_key=keys["SUBSCRIBER"],
            subscriber_algorithm=subscriber_algorithm,
            publisher_jwks_file=jwks["PUBLISHER"],
            subscriber_jwks_file=jwks["SUBSCRIBER"],
            anonymous=env.flag("MERCURE_ANONYMOUS"),
            cors_origins=env.words("MERCURE_CORS_ORIGINS") or _api_origins(env),
            publish_origins=env.words("MERCURE_PUBLISH_ORIGINS"),
            heartbeat=env.seconds("MERCURE_HEARTBEAT"),
            write_timeout=env.seconds("MERCURE_WRITE_TIMEOUT"),
            dispatch_timeout=env.seconds("MERCURE_DISPATCH_TIMEOUT"),
            jwt_leeway=env.seconds("MERCURE_JWT_LEEWAY"),
            history_size=env.integer("MERCURE_HISTORY_SIZE"),
            history_bytes=env.size("MERCURE_HISTORY_BYTES"),
            max_update_size=env.size("MERCURE_MAX_UPDATE_SIZE"),
            queue_size=env.integer("MERCURE_SUBSCRIBER_QUEUE_SIZE"),
            queue_bytes=env.size("MERCURE_SUBSCRIBER_QUEUE_BYTES"),
            template_limits=template_limits,
            subscriptions=env.flag("MERCURE_SUBSCRIPTIONS"),
            cookie_name=env.text("MERCURE_COOKIE_NAME") or DEFAULT_COOKIE_NAME,
            ui=env.flag("MERCURE_UI", not production),
            transport_url=env.text("MERCURE_TRANSPORT_URL"),
            development_key=development_key,
            protocols=_protocols(env),
            resource=_resource(env, public_url),
            issuer=env.text("MERCURE_ISSUER") or "",
            issuers=_issuers(env),
            access_token_cookie=env.text("MERCURE_ACCESS_TOKEN_COOKIE")
            or DEFAULT_ACCESS_TOKEN_COOKIE,
        )


def _api_origins(env: Environment) -> tuple[str, ...]:
    """The REST API's ``CORS_ALLOWED_ORIGINS`` (comma-separated), which the hub allows when
    ``MERCURE_CORS_ORIGINS`` is not set."""
    raw = env.text("CORS_ALLOWED_ORIGINS") or ""
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())
