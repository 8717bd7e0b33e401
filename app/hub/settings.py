"""Hub settings, read from the environment with the reference hub's variable names.

All hub defaults live in this module. :meth:`HubSettings.from_env` is called by the app
factory only; the hub receives the frozen value explicitly.

Variables (durations accept Go-style ``40s``, ``10m``, ``1h30m``, ``500ms`` or seconds):

``MERCURE_PUBLISHER_JWT_KEY`` / ``MERCURE_PUBLISHER_JWT_ALG``, ``MERCURE_SUBSCRIBER_JWT_KEY``
/ ``MERCURE_SUBSCRIBER_JWT_ALG``, ``MERCURE_JWT_KEY`` / ``MERCURE_JWT_ALG`` (both roles),
``MERCURE_PUBLISHER_JWKS_FILE`` / ``MERCURE_SUBSCRIBER_JWKS_FILE`` / ``MERCURE_JWKS_FILE``,
``MERCURE_ANONYMOUS`` (default on), ``MERCURE_CORS_ORIGINS`` and
``MERCURE_PUBLISH_ORIGINS`` (space- or comma-separated), ``MERCURE_HEARTBEAT`` (40s),
``MERCURE_WRITE_TIMEOUT`` (600s), ``MERCURE_DISPATCH_TIMEOUT`` (5s), ``MERCURE_JWT_LEEWAY`` (0s),
``MERCURE_HISTORY_SIZE`` (1000), ``MERCURE_HISTORY_BYTES`` (64 MiB),
``MERCURE_MAX_UPDATE_SIZE`` (10 MiB), ``MERCURE_SUBSCRIBER_QUEUE_SIZE`` (1000),
``MERCURE_SUBSCRIBER_QUEUE_BYTES`` (16 MiB),
``MERCURE_SUBSCRIPTIONS`` (off), ``MERCURE_COOKIE_NAME`` (``mercureAuthorization``),
``MERCURE_UI`` (on in development, off in production), ``MERCURE_TRANSPORT_URL``
(``memory://?history_size=<MERCURE_HISTORY_SIZE>&history_bytes=<MERCURE_HISTORY_BYTES>``).

Sizes (``MERCURE_HISTORY_BYTES``, ``MERCURE_MAX_UPDATE_SIZE``) are bytes, as a plain number
or with a binary unit: ``65536``, ``512KiB``, ``64MiB``, ``1GiB`` (see :func:`parse_size`).
The size of an update is :func:`app.hub.size.update_size`: its SSE frame, what every
subscriber receives and the history keeps, plus its topics.

URI template selectors (see :mod:`app.hub.topics`): ``MERCURE_TOPIC_TEMPLATE_MAX_LENGTH``
(1024 characters, at most 8192), ``MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES`` (32, at most 256)
and ``MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION`` (16): past them a subscription is refused
with a 400 naming the setting, and a template in a token's claim matches only itself.

Security: production refuses to start without a key for each role (or a JWKS file), or
with the development key; in
development a missing key falls back to :data:`DEVELOPMENT_JWT_KEY`, a publicly known
secret, and a warning says so loudly. ``none`` is never an accepted algorithm.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.hub.topics import (
    DEFAULT_LIMITS,
    MAX_LENGTH_CEILING,
    MAX_VARIABLES_CEILING,
    TemplateLimits,
)

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

SUPPORTED_ALGORITHMS = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
DEFAULT_ALGORITHM = "HS256"
DEFAULT_HEARTBEAT = 40.0
DEFAULT_WRITE_TIMEOUT = 600.0
DEFAULT_DISPATCH_TIMEOUT = 5.0
DEFAULT_HISTORY_SIZE = 1000
DEFAULT_QUEUE_SIZE = 1000
DEFAULT_QUEUE_BYTES = 16 * 1024 * 1024
DEFAULT_HISTORY_BYTES = 64 << 20
"""Bytes of updates the in-memory history keeps at most (``MERCURE_HISTORY_BYTES``)."""
DEFAULT_MAX_UPDATE_SIZE = 10 << 20
"""The largest update the hub takes (``MERCURE_MAX_UPDATE_SIZE``): the publish form's own
cap, as Go's ``ParseForm`` reads it. An update is about as large as its form, so one the
endpoint reads is refused mainly when the line breaks of its data (3 bytes in the form,
7 in the frame) make its frame larger."""
DEFAULT_COOKIE_NAME = "mercureAuthorization"
MAX_TOPICS = 1000

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"([0-9]+)\s*(|B|KiB|MiB|GiB)", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


class HubSettingsError(Exception):
    """Hub settings are unusable; the message names the variable and how to fix it."""


def parse_duration(name: str, raw: str) -> float:
    """Parse ``raw`` (``40s``, ``10m``, ``1h30m``, ``500ms`` or plain seconds) from ``name``."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise HubSettingsError(
                f"{name}={raw!r} is not a duration; use e.g. 40s, 10m, 1h30m or 500ms"
            ) from None
        value = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    if value < 0:
        raise HubSettingsError(f"{name}={raw!r} must not be negative")
    return value


def parse_size(name: str, raw: str, *, minimum: int = 0) -> int:
    """Parse ``raw`` (``65536``, ``512KiB``, ``64MiB``, ``1GiB``) from ``name`` into bytes.

    Raises :class:`ValueError` naming ``name`` for anything else or a size under
    ``minimum``. Units are binary and case-insensitive; decimal ones (``MB``) are refused
    rather than guessed.
    """
    text = raw.strip()
    found = _SIZE.fullmatch(text)
    if found is None or len(found.group(1)) > 18:
        raise ValueError(f"{name}={raw!r} is not a size; use bytes or e.g. 512KiB, 64MiB, 1GiB")
    size = int(found.group(1)) * _SIZE_UNITS[found.group(2).lower()]
    if size < minimum:
        raise ValueError(f"{name}={raw!r} must be at least {minimum} bytes")
    return size


def _size(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return parse_size(name, raw, minimum=minimum)
    except ValueError as error:
        raise HubSettingsError(str(error)) from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    text = raw.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise HubSettingsError(f"{name}={raw!r} is not a boolean; use 1/0, true/false or on/off")


def _integer(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HubSettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise HubSettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _bounded(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    value = _integer(env, name, default, 1)
    if value > maximum:
        raise HubSettingsError(f"{name}={env.get(name)!r} must be at most {maximum}")
    return value


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(part for part in re.split(r"[\s,]+", raw) if part)


def _algorithm(env: Mapping[str, str], name: str, fallback: str) -> str:
    raw = (env.get(name) or fallback).strip()
    for algorithm in SUPPORTED_ALGORITHMS:
        if raw.upper() == algorithm.upper():
            return algorithm
    raise HubSettingsError(
        f"{name}={raw!r} is not a supported JWT algorithm; use one of "
        + ", ".join(SUPPORTED_ALGORITHMS)
    )


def _key(raw: str) -> str:
    # PEM keys often travel through env files with literal "\n" sequences.
    return raw.replace("\\n", "\n") if "-----BEGIN" in raw else raw


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


def _issuers(env: Mapping[str, str]) -> tuple[IssuerSettings, ...]:
    raw = (env.get("MERCURE_ISSUERS") or "").strip()
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
        checked = tuple(
            _algorithm({"alg": str(name)}, "alg", DEFAULT_ALGORITHM) for name in algorithms
        )
        jwks_file = entry.get("jwks_file")
        if jwks_file and not Path(jwks_file).is_file():
            raise HubSettingsError(f"{where}: jwks_file {jwks_file!r} is not a readable file")
        issuers.append(
            IssuerSettings(
                identifier=entry["issuer"],
                algorithms=checked,
                key=_key(entry["key"]) if entry.get("key") else None,
                jwks_url=entry.get("jwks_url") or None,
                jwks_file=Path(jwks_file) if jwks_file else None,
                authorization_server=bool(entry.get("authorization_server")),
            )
        )
    return tuple(issuers)


def _protocols(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("MERCURE_PROTOCOLS")
    if raw is None or not raw.strip():
        return PROTOCOLS
    names = tuple(dict.fromkeys(part for part in re.split(r"[\s,]+", raw.strip()) if part))
    unknown = [name for name in names if name not in PROTOCOLS]
    if unknown or not names:
        raise HubSettingsError(
            f'MERCURE_PROTOCOLS={raw!r}: use 1.0 (refuse 0.x clients) or "0.x 1.0" (both)'
        )
    return names


def _resource(env: Mapping[str, str], public_url: str | None) -> str:
    raw = (env.get("MERCURE_RESOURCE_IDENTIFIER") or "").strip()
    if not raw:
        if public_url:
            return public_url.rstrip("/") + "/.well-known/mercure"
        return DEFAULT_RESOURCE
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HubSettingsError(
            f"MERCURE_RESOURCE_IDENTIFIER={raw!r} is not an absolute URL; use the hub's "
            "public URL, e.g. https://shop.example/.well-known/mercure"
        )
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
        env = os.environ if environ is None else environ
        shared_key = env.get("MERCURE_JWT_KEY") or None
        shared_jwks = env.get("MERCURE_JWKS_FILE") or None
        shared_algorithm = env.get("MERCURE_JWT_ALG") or DEFAULT_ALGORITHM
        development_key = False
        keys: dict[str, str] = {}
        jwks: dict[str, Path | None] = {}
        for role in ("PUBLISHER", "SUBSCRIBER"):
            key = env.get(f"MERCURE_{role}_JWT_KEY") or shared_key
            jwks_file = env.get(f"MERCURE_{role}_JWKS_FILE") or shared_jwks
            jwks[role] = Path(jwks_file) if jwks_file else None
            if jwks_file and not Path(jwks_file).is_file():
                raise HubSettingsError(
                    f"MERCURE_{role}_JWKS_FILE={jwks_file!r} is not a readable file"
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
            keys[role] = _key(key or "")
        publisher_algorithm = _algorithm(env, "MERCURE_PUBLISHER_JWT_ALG", shared_algorithm)
        subscriber_algorithm = _algorithm(env, "MERCURE_SUBSCRIBER_JWT_ALG", shared_algorithm)
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
        cookie_name = (env.get("MERCURE_COOKIE_NAME") or DEFAULT_COOKIE_NAME).strip()
        history_size = _integer(env, "MERCURE_HISTORY_SIZE", DEFAULT_HISTORY_SIZE, 0)

        def duration(name: str, default: float) -> float:
            raw = env.get(name)
            return default if raw is None or not raw.strip() else parse_duration(name, raw)

        template_limits = TemplateLimits(
            max_length=_bounded(
                env,
                "MERCURE_TOPIC_TEMPLATE_MAX_LENGTH",
                DEFAULT_LIMITS.max_length,
                MAX_LENGTH_CEILING,
            ),
            max_variables=_bounded(
                env,
                "MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES",
                DEFAULT_LIMITS.max_variables,
                MAX_VARIABLES_CEILING,
            ),
            max_templates=_integer(
                env, "MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION", DEFAULT_LIMITS.max_templates, 0
            ),
        )
        return cls(
            publisher_key=keys["PUBLISHER"],
            publisher_algorithm=publisher_algorithm,
            subscriber_key=keys["SUBSCRIBER"],
            subscriber_algorithm=subscriber_algorithm,
            publisher_jwks_file=jwks["PUBLISHER"],
            subscriber_jwks_file=jwks["SUBSCRIBER"],
            anonymous=_flag(env, "MERCURE_ANONYMOUS", True),
            cors_origins=_origins(env, "MERCURE_CORS_ORIGINS"),
            publish_origins=_origins(env, "MERCURE_PUBLISH_ORIGINS"),
            heartbeat=duration("MERCURE_HEARTBEAT", DEFAULT_HEARTBEAT),
            write_timeout=duration("MERCURE_WRITE_TIMEOUT", DEFAULT_WRITE_TIMEOUT),
            dispatch_timeout=duration("MERCURE_DISPATCH_TIMEOUT", DEFAULT_DISPATCH_TIMEOUT),
            jwt_leeway=duration("MERCURE_JWT_LEEWAY", 0.0),
            history_size=history_size,
            history_bytes=_size(env, "MERCURE_HISTORY_BYTES", DEFAULT_HISTORY_BYTES, 0),
            max_update_size=_size(env, "MERCURE_MAX_UPDATE_SIZE", DEFAULT_MAX_UPDATE_SIZE, 1),
            queue_size=_integer(env, "MERCURE_SUBSCRIBER_QUEUE_SIZE", DEFAULT_QUEUE_SIZE, 1),
            queue_bytes=_size(env, "MERCURE_SUBSCRIBER_QUEUE_BYTES", DEFAULT_QUEUE_BYTES, 1),
            template_limits=template_limits,
            subscriptions=_flag(env, "MERCURE_SUBSCRIPTIONS", False),
            cookie_name=cookie_name,
            ui=_flag(env, "MERCURE_UI", not production),
            transport_url=(env.get("MERCURE_TRANSPORT_URL") or "").strip() or None,
            development_key=development_key,
            protocols=_protocols(env),
            resource=_resource(env, public_url),
            issuer=(env.get("MERCURE_ISSUER") or "").strip(),
            issuers=_issuers(env),
            access_token_cookie=(
                env.get("MERCURE_ACCESS_TOKEN_COOKIE") or DEFAULT_ACCESS_TOKEN_COOKIE
            ).strip(),
        )
