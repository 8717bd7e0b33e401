"""Every environment variable the gateway reads, in one declarative table.

:data:`VARIABLES` names each variable with its type (a :class:`Kind`, which parses the
text and words the error), its default, its meaning and the component that reads it.
That one table drives:

* parsing and validation: the settings modules (:mod:`app.settings`,
  :mod:`app.hub.settings`, :mod:`app.auth.settings`, :mod:`app.publish.settings`) read
  only through an :class:`Environment`, whose typed accessors accept only a name of the
  table and parse with its kind and default; an invalid value raises the component's
  error naming the variable, the text given and what is expected;
* ``flask settings``, which lists the effective value of every variable (secrets
  masked), and ``flask settings --markdown``, which prints ``docs/settings.md``;
* the documentation's settings page, which a test compares with :func:`markdown`.

Adding a setting is one :class:`Variable` entry here, then one accessor call where its
component reads it. ``gunicorn.conf.py`` reads its own variables before any of ``app`` is
imported; a test checks its defaults against this table. Nothing here reads the process
environment at import time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click
from werkzeug.urls import iri_to_uri

__all__ = [
    "COMPONENTS",
    "VARIABLES",
    "Environment",
    "Kind",
    "Variable",
    "effective",
    "markdown",
    "parse_duration",
    "parse_size",
    "settings_command",
    "variable",
]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZE = re.compile(r"([0-9]+)\s*(|B|KiB|MiB|GiB)", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}
MASK = "********"
"""What ``flask settings`` shows instead of a secret."""

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
"""The JWT algorithms tokens may use (never ``none``)."""


def parse_duration(name: str, raw: str) -> float:
    """Seconds in ``raw`` (``40s``, ``10m``, ``1h30m``, ``500ms`` or plain seconds) read
    from ``name``; :class:`ValueError` naming ``name`` otherwise."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(
                f"{name}={raw!r} is not a duration; use e.g. 40s, 10m, 1h30m or 500ms"
            ) from None
        value = sum(float(number) * _DURATION_UNITS[unit] for number, unit in parts)
    if value < 0:
        raise ValueError(f"{name}={raw!r} must not be negative")
    return value


def parse_size(name: str, raw: str, *, minimum: int = 0) -> int:
    """Bytes in ``raw`` (``65536``, ``512KiB``, ``64MiB``, ``1GiB``) read from ``name``.

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


def _binary_size(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def _seconds(value: float) -> str:
    return f"{value:g}s"


# -- kinds -------------------------------------------------------------------------------


class Kind:
    """How a variable's text becomes a value: :meth:`parse` raises :class:`ValueError`
    naming the variable; :meth:`show` writes a value back as text. An unset or blank
    variable takes the default without being parsed."""

    description = "text"

    def parse(self, name: str, raw: str) -> Any:
        return raw.strip()

    def show(self, value: Any) -> str:
        return str(value)


class Text(Kind):
    """Free text, stripped."""


class Secret(Kind):
    """A secret (a key, a token); a PEM key may spell its line breaks ``\\n``."""

    description = "secret"

    def parse(self, name: str, raw: str) -> str:
        text = raw.strip()
        # PEM keys often travel through env files with literal "\n" sequences.
        return text.replace("\\n", "\n") if "-----BEGIN" in text else text


class Url(Kind):
    """A URL; a password in it is masked when shown."""

    description = "URL"


@dataclass(frozen=True)
class HttpUrl(Url):
    """An absolute ``http`` or ``https`` URL that can be written as a URI (its host
    encodable by IDNA, its port in range), as links and headers need it."""

    example: str

    def parse(self, name: str, raw: str) -> str:
        text = raw.strip()
        problem = f"{name}={raw!r} is not an absolute http(s) URL; use e.g. {self.example}"
        try:
            parts = urlsplit(text)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(problem)
            iri_to_uri(text)
        except ValueError as error:  # UnicodeError (IDNA) included
            raise ValueError(problem if str(error) == problem else f"{problem} ({error})") from None
        return text


class FilePath(Kind):
    description = "path"

    def parse(self, name: str, raw: str) -> Path:
        return Path(raw.strip())


@dataclass(frozen=True)
class Choice(Kind):
    values: tuple[str, ...]

    @property
    def description(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(f"`{v}`" for v in self.values)

    def parse(self, name: str, raw: str) -> str:
        text = raw.strip().lower()
        if text not in self.values:
            raise ValueError(
                f"{name}={text!r} is not valid; set it to "
                + " or ".join(repr(value) for value in self.values)
            )
        return text


class Flag(Kind):
    """``1``/``0``, ``true``/``false``, ``yes``/``no``, ``on``/``off``; empty is false."""

    description = "boolean"

    def parse(self, name: str, raw: str) -> bool:
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{name}={raw!r} is not a boolean; use 1/0, true/false or on/off")

    def show(self, value: Any) -> str:
        return "on" if value else "off"


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int = 0
    maximum: int | None = None

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.maximum is None:
            return f"integer >= {self.minimum}"
        return f"integer, {self.minimum} to {self.maximum}"

    def parse(self, name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not an integer") from None
        if value < self.minimum:
            raise ValueError(f"{name}={raw!r} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"{name}={raw!r} must be at most {self.maximum}")
        return value


class Duration(Kind):
    """``40s``, ``10m``, ``1h30m``, ``500ms`` or plain seconds; never negative."""

    description = "duration"

    def parse(self, name: str, raw: str) -> float:
        return parse_duration(name, raw)

    def show(self, value: Any) -> str:
        return _seconds(float(value))


class Seconds(Kind):
    """A positive number of seconds."""

    description = "seconds > 0"

    def parse(self, name: str, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
        if value <= 0:
            raise ValueError(f"{name}={raw!r} must be greater than 0")
        return value

    def show(self, value: Any) -> str:
        return _seconds(float(value))


@dataclass(frozen=True)
class Size(Kind):
    """Bytes, plain or with a binary unit: ``65536``, ``512KiB``, ``64MiB``, ``1GiB``."""

    minimum: int = 0
    description = "size"

    def parse(self, name: str, raw: str) -> int:
        return parse_size(name, raw, minimum=self.minimum)

    def show(self, value: Any) -> str:
        return _binary_size(int(value))


class Words(Kind):
    """Items separated by spaces or commas."""

    description = "list"

    def parse(self, name: str, raw: str) -> tuple[str, ...]:
        return tuple(part for part in re.split(r"[\s,]+", raw) if part)

    def show(self, value: Any) -> str:
        return " ".join(value)


def _algorithm(name: str, part: str) -> str:
    for algorithm in SUPPORTED_ALGORITHMS:
        if part.upper() == algorithm.upper():
            return algorithm
    raise ValueError(
        f"{name}={part!r} is not a supported JWT algorithm; use one of "
        + ", ".join(SUPPORTED_ALGORITHMS)
    )


class Algorithm(Kind):
    description = "JWT algorithm"

    def parse(self, name: str, raw: str) -> str:
        return _algorithm(name, raw.strip())


class Algorithms(Kind):
    description = "JWT algorithms, comma separated"

    def parse(self, name: str, raw: str) -> tuple[str, ...]:
        parts = [p.strip() for p in raw.split(",") if p.strip()]
        chosen: list[str] = []
        for part in parts:
            try:
                chosen.append(_algorithm(name, part))
            except ValueError:
                raise ValueError(
                    f"{name}: {part!r} is not a supported JWT algorithm; use one of "
                    + ", ".join(SUPPORTED_ALGORITHMS)
                ) from None
        return tuple(chosen)

    def show(self, value: Any) -> str:
        return ",".join(value)


# -- the table ---------------------------------------------------------------------------

COMPONENTS = {
    "app": "the gateway (app/settings.py)",
    "hub": "the built-in Mercure hub (app/hub/settings.py)",
    "auth": "users' bearer tokens (app/auth/settings.py)",
    "publish": "publishing to hubs (app/publish/settings.py)",
    "metrics": "Prometheus metrics (app/metrics/settings.py)",
    "gunicorn": "the server (gunicorn.conf.py)",
}
"""Who reads the variables, in the order the documentation lists them."""


@dataclass(frozen=True)
class Variable:
    """One environment variable.

    ``default`` is the value used when the variable is unset or blank (``None``: no
    value); ``shown_default`` replaces it in listings when the default is worked out from
    other settings (the reader then passes it explicitly). A ``<NAME>`` in ``name`` stands
    for a part chosen by the user (a named hub).
    """

    name: str
    kind: Kind
    default: Any
    meaning: str
    component: str
    shown_default: str | None = None
    secret: bool = False

    @property
    def pattern(self) -> re.Pattern[str] | None:
        """For a name with ``<NAME>``: what the names it stands for look like."""
        if "<NAME>" not in self.name:
            return None
        head, _, tail = self.name.partition("<NAME>")
        return re.compile(re.escape(head) + "([A-Z0-9_]+)" + re.escape(tail))

    def default_text(self) -> str:
        if self.shown_default is not None:
            return self.shown_default
        if self.default is None or self.default == ():
            return "none"
        return self.kind.show(self.default)


VARIABLES: tuple[Variable, ...] = (
    # -- app --
    Variable(
        "GATEWAY_ENV",
        Choice(("development", "production")),
        "development",
        "`production` refuses development keys, a missing `PUBLIC_URL` and unsafe rules",
        "app",
    ),
    Variable(
        "DATABASE_URL",
        Url(),
        "sqlite:///gateway.db",
        "any SQLAlchemy URL (a relative SQLite file lives under `instance/`); PostgreSQL as "
        "`postgresql+psycopg://user:password@host/db`",
        "app",
    ),
    Variable("RESOURCES_FILE", FilePath(), Path("resources.yaml"), "the file to serve", "app"),
    Variable(
        "PUBLIC_URL",
        HttpUrl("https://shop.example"),
        None,
        "origin of absolute IRIs, topics, the advertised hub and the other discovery links "
        "(`Link`, AsyncAPI, the contexts' `@vocab`); without it each request's own origin "
        "is used (production requires it); item IRIs (`@id`) are relative to the root, so "
        "serve the gateway at the root of its host",
        "app",
        shown_default="the request's origin",
    ),
    Variable(
        "CORS_ALLOWED_ORIGINS",
        Text(),
        None,
        "comma-separated origins (or `*`) allowed to call the REST API, and to subscribe to "
        "the hub unless `MERCURE_CORS_ORIGINS` is set",
        "app",
    ),
    Variable(
        "MAX_BODY_SIZE",
        Size(minimum=1),
        1 << 20,
        "the largest REST request body; a larger one is 413 before it is read",
        "app",
    ),
    Variable(
        "ALLOW_EXTRA_ATTRIBUTES",
        Flag(),
        True,
        "properties of a write body the resource does not write are ignored, as API "
        "Platform does; false makes them a 422 (a resource's `allow_extra_attributes` "
        "overrides it)",
        "app",
    ),
    Variable(
        "LOG_FORMAT",
        Choice(("text", "json")),
        "text",
        "`json`: one JSON object per line, with the request id (gunicorn's lines too)",
        "app",
    ),
    # -- hub --
    Variable(
        "MERCURE_JWT_KEY",
        Secret(),
        None,
        "key (HMAC secret or PEM public key) of both roles' tokens",
        "hub",
        shown_default="development: a public key",
        secret=True,
    ),
    Variable("MERCURE_JWT_ALG", Algorithm(), "HS256", "algorithm of both roles' tokens", "hub"),
    Variable(
        "MERCURE_PUBLISHER_JWT_KEY",
        Secret(),
        None,
        "key of publishers' tokens",
        "hub",
        shown_default="`MERCURE_JWT_KEY`",
        secret=True,
    ),
    Variable(
        "MERCURE_PUBLISHER_JWT_ALG",
        Algorithm(),
        None,
        "algorithm of publishers' tokens",
        "hub",
        shown_default="`MERCURE_JWT_ALG`",
    ),
    Variable(
        "MERCURE_SUBSCRIBER_JWT_KEY",
        Secret(),
        None,
        "key of subscribers' tokens",
        "hub",
        shown_default="`MERCURE_JWT_KEY`",
        secret=True,
    ),
    Variable(
        "MERCURE_SUBSCRIBER_JWT_ALG",
        Algorithm(),
        None,
        "algorithm of subscribers' tokens",
        "hub",
        shown_default="`MERCURE_JWT_ALG`",
    ),
    Variable(
        "MERCURE_JWKS_FILE",
        FilePath(),
        None,
        "a JSON Web Key Set file verifying both roles' tokens",
        "hub",
    ),
    Variable(
        "MERCURE_PUBLISHER_JWKS_FILE",
        FilePath(),
        None,
        "a JSON Web Key Set file verifying publishers' tokens",
        "hub",
        shown_default="`MERCURE_JWKS_FILE`",
    ),
    Variable(
        "MERCURE_SUBSCRIBER_JWKS_FILE",
        FilePath(),
        None,
        "a JSON Web Key Set file verifying subscribers' tokens",
        "hub",
        shown_default="`MERCURE_JWKS_FILE`",
    ),
    Variable("MERCURE_ANONYMOUS", Flag(), True, "subscribers without a token are served", "hub"),
    Variable(
        "MERCURE_CORS_ORIGINS",
        Words(),
        (),
        "origins allowed to subscribe from a browser, with credentials (`*`: any, without)",
        "hub",
        shown_default="`CORS_ALLOWED_ORIGINS`",
    ),
    Variable(
        "MERCURE_PUBLISH_ORIGINS",
        Words(),
        (),
        "origins allowed to publish with the cookie",
        "hub",
    ),
    Variable(
        "MERCURE_HEARTBEAT",
        Duration(),
        40.0,
        "a `:` comment after this long without an update (0: never)",
        "hub",
    ),
    Variable(
        "MERCURE_WRITE_TIMEOUT",
        Duration(),
        600.0,
        "a stream lasts 80 to 100 % of this, then the client reconnects (0: no limit)",
        "hub",
    ),
    Variable(
        "MERCURE_DISPATCH_TIMEOUT",
        Duration(),
        5.0,
        "how long an update may wait to be queued for one subscriber",
        "hub",
    ),
    Variable(
        "MERCURE_JWT_LEEWAY",
        Duration(),
        0.0,
        "clock skew allowed on tokens' `exp` and `nbf`",
        "hub",
    ),
    Variable(
        "MERCURE_HISTORY_SIZE",
        Integer(minimum=0),
        1000,
        "updates the in-memory history keeps for `Last-Event-ID`",
        "hub",
    ),
    Variable(
        "MERCURE_HISTORY_BYTES",
        Size(minimum=0),
        64 << 20,
        "bytes of updates the in-memory history keeps at most",
        "hub",
    ),
    Variable(
        "MERCURE_MAX_UPDATE_SIZE",
        Size(minimum=1),
        10 << 20,
        "the largest update published, over HTTP or by the gateway (larger: 413)",
        "hub",
    ),
    Variable(
        "MERCURE_SUBSCRIBER_QUEUE_SIZE",
        Integer(minimum=1),
        1000,
        "updates one subscriber may have waiting before it is disconnected",
        "hub",
    ),
    Variable(
        "MERCURE_SUBSCRIBER_QUEUE_BYTES",
        Size(minimum=1),
        16 << 20,
        "bytes one subscriber may have waiting before it is disconnected",
        "hub",
    ),
    Variable(
        "MERCURE_TOPIC_TEMPLATE_MAX_LENGTH",
        Integer(minimum=1, maximum=8192),
        1024,
        "the longest URI template selector, in characters",
        "hub",
    ),
    Variable(
        "MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES",
        Integer(minimum=1, maximum=256),
        32,
        "the most variables in one URI template selector",
        "hub",
    ),
    Variable(
        "MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION",
        Integer(minimum=0),
        16,
        "the most URI template selectors in one subscription",
        "hub",
    ),
    Variable(
        "MERCURE_SUBSCRIPTIONS",
        Flag(),
        False,
        "publish subscription events and serve the subscriptions API",
        "hub",
    ),
    Variable(
        "MERCURE_COOKIE_NAME",
        Text(),
        "mercureAuthorization",
        "the cookie holding a subscriber's token",
        "hub",
    ),
    Variable(
        "MERCURE_PROTOCOLS",
        Text(),
        None,
        "the Mercure protocols the hub speaks: `0.x 1.0` (both, chosen per request) or `1.0` "
        "(0.x clients refused)",
        "hub",
        shown_default="`0.x 1.0`",
    ),
    Variable(
        "MERCURE_RESOURCE_IDENTIFIER",
        HttpUrl("https://shop.example/.well-known/mercure"),
        None,
        "the hub's OAuth resource identifier, which 1.0 access tokens name in `aud`, and the "
        "base of relative URL patterns; on another port than 8000, set `PUBLIC_URL` (or this)",
        "hub",
        shown_default="`PUBLIC_URL` + `/.well-known/mercure`, else "
        "`http://localhost:8000/.well-known/mercure`",
    ),
    Variable(
        "MERCURE_ISSUER",
        Text(),
        None,
        "the issuer (`iss`) of 1.0 access tokens signed with the hub's own keys",
        "hub",
        shown_default="`MERCURE_RESOURCE_IDENTIFIER`",
    ),
    Variable(
        "MERCURE_ISSUERS",
        Text(),
        None,
        "other trusted issuers of 1.0 access tokens, a JSON array of "
        '`{"issuer", "key" | "jwks_url" | "jwks_file", "algorithms"}` (masked in listings: '
        "a `key` may be an HMAC secret)",
        "hub",
        secret=True,
    ),
    Variable(
        "MERCURE_ACCESS_TOKEN_COOKIE",
        Text(),
        "__Secure-mercure_access_token",
        "the cookie holding a 1.0 access token (a name without `__Secure-` for plain-HTTP "
        "development)",
        "hub",
    ),
    Variable(
        "MERCURE_UI",
        Flag(),
        None,
        "serve the debug UI at `/.well-known/mercure/ui/`",
        "hub",
        shown_default="on in development, off in production",
    ),
    Variable(
        "MERCURE_TRANSPORT_URL",
        Url(),
        None,
        "`memory://`, `sqlite:///path` or `redis://host:6379/0` (see [Transports](transports.md))",
        "hub",
        shown_default="`memory://` with `MERCURE_HISTORY_SIZE` and `MERCURE_HISTORY_BYTES`",
    ),
    # -- auth --
    Variable(
        "AUTH_JWT_KEY",
        Secret(),
        None,
        "HMAC secret or PEM public key of users' bearer tokens",
        "auth",
        shown_default="development: a public key",
        secret=True,
    ),
    Variable(
        "AUTH_JWT_ALG",
        Algorithms(),
        None,
        "algorithms of users' tokens",
        "auth",
        shown_default="`HS256`; with `AUTH_JWKS_URL` every RS, PS, ES and EdDSA one",
    ),
    Variable(
        "AUTH_JWKS_URL",
        Url(),
        None,
        "an OpenID Connect provider's key set (instead of `AUTH_JWT_KEY`)",
        "auth",
    ),
    Variable(
        "AUTH_JWKS_LIFESPAN",
        Duration(),
        300.0,
        "how long the key set is cached",
        "auth",
    ),
    Variable("AUTH_ISSUER", Text(), None, "the `iss` users' tokens must have", "auth"),
    Variable("AUTH_AUDIENCE", Text(), None, "the `aud` users' tokens must have", "auth"),
    Variable(
        "AUTH_LEEWAY", Duration(), 30.0, "clock skew allowed on `exp`, `nbf` and `iat`", "auth"
    ),
    Variable(
        "AUTH_ROLES_CLAIM",
        Text(),
        "roles",
        "the claim holding the roles, a dotted path for nested claims",
        "auth",
    ),
    Variable(
        "AUTH_MERCURE_TOKEN_LIFETIME",
        Duration(),
        3600.0,
        "longest life of a subscriber token from `/auth/mercure`",
        "auth",
    ),
    Variable(
        "AUTH_MERCURE_PRIVATE_KEY",
        Secret(),
        None,
        "PEM private key signing subscriber tokens when the hub's algorithm is asymmetric",
        "auth",
        secret=True,
    ),
    # -- publish --
    Variable(
        "MERCURE_PUBLISH_URL",
        Url(),
        None,
        "an external hub to publish to instead of the built-in one",
        "publish",
        shown_default="the built-in hub",
    ),
    Variable(
        "MERCURE_SUBSCRIBE_URL",
        Url(),
        None,
        "the public URL of that hub, advertised to clients",
        "publish",
        shown_default="`MERCURE_PUBLISH_URL`",
    ),
    Variable(
        "MERCURE_JWT_TOKEN",
        Secret(),
        None,
        "a publisher JWT for that hub",
        "publish",
        secret=True,
    ),
    Variable(
        "MERCURE_PROTOCOL_VERSION",
        Choice(("0.x", "1.0")),
        "0.x",
        "the Mercure protocol that hub speaks; `1.0` needs a 1.0 access token",
        "publish",
    ),
    Variable(
        "MERCURE_HUBS_<NAME>_PUBLISH_URL",
        Url(),
        None,
        "where updates of resources with `mercure.hub: <name>` go",
        "publish",
    ),
    Variable(
        "MERCURE_HUBS_<NAME>_SUBSCRIBE_URL",
        Url(),
        None,
        "the public URL of the hub `<name>`",
        "publish",
        shown_default="its publish URL",
    ),
    Variable(
        "MERCURE_HUBS_<NAME>_JWT_TOKEN",
        Secret(),
        None,
        "a publisher JWT for the hub `<name>`",
        "publish",
        secret=True,
    ),
    Variable(
        "MERCURE_HUBS_<NAME>_PROTOCOL_VERSION",
        Choice(("0.x", "1.0")),
        "0.x",
        "the Mercure protocol the hub `<name>` speaks",
        "publish",
    ),
    Variable(
        "MERCURE_PUBLISH_RETRY_MIN_DELAY",
        Seconds(),
        0.5,
        "first delay before a hub that did not take an update is tried again",
        "publish",
    ),
    Variable(
        "MERCURE_PUBLISH_RETRY_MAX_DELAY",
        Seconds(),
        60.0,
        "longest delay between two tries",
        "publish",
    ),
    Variable(
        "MERCURE_PUBLISH_TIMEOUT",
        Seconds(),
        10.0,
        "how long one try may take",
        "publish",
    ),
    # -- metrics --
    Variable(
        "METRICS",
        Flag(),
        True,
        "collect Prometheus metrics (`off`: none, `/metrics` is 404)",
        "metrics",
    ),
    Variable(
        "METRICS_TOKEN",
        Secret(),
        None,
        "bearer token that lets a scraper read `/metrics` (16 characters or more)",
        "metrics",
        secret=True,
    ),
    # -- gunicorn --
    Variable("HOST", Text(), "127.0.0.1", "the address gunicorn binds", "gunicorn"),
    Variable("PORT", Integer(minimum=1, maximum=65535), 8000, "the port", "gunicorn"),
    Variable(
        "WEB_CONCURRENCY",
        Integer(minimum=1),
        1,
        "worker processes (more than one needs the Redis transport)",
        "gunicorn",
    ),
    Variable(
        "WORKER_CONNECTIONS",
        Integer(minimum=1),
        20000,
        "connections one worker holds (each open stream is one)",
        "gunicorn",
    ),
    Variable(
        "GRACEFUL_TIMEOUT",
        Integer(minimum=0),
        10,
        "seconds requests in flight get to finish on a stop or reload",
        "gunicorn",
    ),
    Variable(
        "LIMIT_REQUEST_LINE",
        Integer(minimum=0, maximum=8190),
        8190,
        "the longest request line in bytes (0: unlimited, only behind a proxy bounding it)",
        "gunicorn",
    ),
    Variable(
        "METRICS_ADDRESS",
        Text(),
        None,
        "`HOST:PORT` gunicorn also binds, serving only `/metrics`, `/healthz` and `/readyz`",
        "gunicorn",
    ),
    Variable(
        "METRICS_DIR",
        Text(),
        None,
        "where each master makes its metrics directory (default: the temporary directory)",
        "gunicorn",
    ),
    Variable(
        "PROMETHEUS_MULTIPROC_DIR",
        Text(),
        None,
        "set by gunicorn.conf.py for its workers (each master its own); do not set it",
        "gunicorn",
    ),
)
"""Every environment variable the gateway reads; see the module's docstring."""

_BY_NAME = {entry.name: entry for entry in VARIABLES}


def variable(name: str) -> Variable:
    """The entry of ``name`` (a ``<NAME>`` pattern for named hubs); :class:`KeyError`
    for a name the table does not have: every variable read must be declared."""
    return _BY_NAME[name]


# -- reading -----------------------------------------------------------------------------


class Environment:
    """Read declared variables from ``environ`` (default: the process environment).

    Each accessor takes a name of :data:`VARIABLES` whose kind matches it, and raises
    ``error`` (the reading component's exception class) with the kind's message for an
    invalid value. ``default`` replaces the table's default only for variables whose
    default is worked out from other settings.
    """

    def __init__(
        self, environ: Mapping[str, str] | None = None, error: type[Exception] = ValueError
    ) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.error = error

    def raw(self, name: str, **parts: str) -> str | None:
        """The text of ``name`` (``parts`` fill a ``<NAME>`` pattern), ``None`` when unset
        or blank."""
        variable(name)
        actual = name.replace("<NAME>", parts["NAME"]) if parts else name
        value = self.environ.get(actual)
        return value if value is not None and value.strip() else None

    def _read(self, name: str, kind: type[Kind], default: Any, parts: dict[str, str]) -> Any:
        entry = variable(name)
        if not isinstance(entry.kind, kind):
            raise TypeError(f"{name} is declared as {type(entry.kind).__name__}")
        raw = self.raw(name, **parts)
        if raw is None:
            return entry.default if default is None else default
        actual = name.replace("<NAME>", parts["NAME"]) if parts else name
        try:
            return entry.kind.parse(actual, raw)
        except ValueError as problem:
            raise self.error(str(problem)) from None

    def text(self, name: str, default: str | None = None, **parts: str) -> str | None:
        """Text, URL or secret: the stripped value, or the default."""
        value = self._read(name, Kind, default, parts)
        assert value is None or isinstance(value, str)
        return value

    def path(self, name: str) -> Path | None:
        value = self._read(name, FilePath, None, {})
        assert value is None or isinstance(value, Path)
        return value

    def flag(self, name: str, default: bool | None = None) -> bool:
        # A flag set to the empty string is false, as the reference hub reads it.
        entry = variable(name)
        if not isinstance(entry.kind, Flag):
            raise TypeError(f"{name} is declared as {type(entry.kind).__name__}")
        raw = self.environ.get(name)
        if raw is None:
            return bool(entry.default if default is None else default)
        try:
            return entry.kind.parse(name, raw)
        except ValueError as problem:
            raise self.error(str(problem)) from None

    def integer(self, name: str) -> int:
        value = self._read(name, Integer, None, {})
        assert isinstance(value, int)
        return value

    def size(self, name: str) -> int:
        value = self._read(name, Size, None, {})
        assert isinstance(value, int)
        return value

    def seconds(self, name: str) -> float:
        """A :class:`Duration` or :class:`Seconds` variable, in seconds."""
        entry = variable(name)
        kind = Duration if isinstance(entry.kind, Duration) else Seconds
        value = self._read(name, kind, None, {})
        assert isinstance(value, float)
        return value

    def choice(self, name: str, **parts: str) -> str:
        value = self._read(name, Choice, None, parts)
        assert isinstance(value, str)
        return value

    def words(self, name: str) -> tuple[str, ...]:
        value = self._read(name, Words, None, {})
        assert isinstance(value, tuple)
        return value

    def algorithm(self, name: str, default: str | None = None) -> str:
        value = self._read(name, Algorithm, default, {})
        assert isinstance(value, str)
        return value

    def algorithms(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._read(name, Algorithms, default, {})
        assert isinstance(value, tuple)
        return value


# -- listing -----------------------------------------------------------------------------


def _mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{netloc}"))


def _names(entry: Variable, environ: Mapping[str, str]) -> list[str]:
    pattern = entry.pattern
    if pattern is None:
        return [entry.name]
    return sorted(name for name in environ if pattern.fullmatch(name))


def effective(environ: Mapping[str, str] | None = None) -> Iterator[tuple[Variable, str, str]]:
    """(entry, name, shown value) of every variable: its value read from ``environ``,
    secrets masked (``********``) and passwords in URLs too, or its default marked
    ``(default)``; an invalid value is shown with the problem. Named hubs' variables
    appear once per name set."""
    env = os.environ if environ is None else environ
    for entry in VARIABLES:
        for name in _names(entry, env):
            raw = env.get(name)
            if raw is None or not raw.strip():
                yield entry, name, f"{entry.default_text().replace('`', '')} (default)"
                continue
            try:
                value = entry.kind.parse(name, raw)
            except ValueError as problem:
                shown = MASK if entry.secret else raw
                yield entry, name, f"{shown} (invalid: {problem})"
                continue
            if entry.secret:
                yield entry, name, MASK
            elif isinstance(entry.kind, Url):
                yield entry, name, _mask_url(str(value))
            else:
                yield entry, name, entry.kind.show(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The documentation's settings page (``docs/settings.md``)."""
    lines = [
        "# Settings",
        "",
        "<!-- Generated from app/environment.py by `flask settings --markdown`; a test",
        "     checks that this page matches the table. Edit the table, not this page. -->",
        "",
        "Every setting is an environment variable, read once when the app is built",
        "(`create_app`); an invalid value stops the start with a message naming the",
        "variable, what it was and what is expected. `flask settings` lists the value of",
        "each in the current environment, secrets masked:",
        "",
        "```console",
        "$ MERCURE_HEARTBEAT=15s flask settings | grep -E '^(MERCURE_HEARTBEAT|MERCURE_UI) '",
        "MERCURE_HEARTBEAT  15s",
        "MERCURE_UI  on in development, off in production (default)",
        "```",
        "",
        "Durations take `40s`, `10m`, `1h30m`, `500ms` or plain seconds; sizes take bytes",
        "or a binary unit (`65536`, `512KiB`, `64MiB`, `1GiB`); booleans `1`/`0`,",
        "`true`/`false`, `yes`/`no` or `on`/`off`. `<NAME>` is a hub name of",
        "`resources.yaml` (`mercure.hub`), upper-cased, other characters than letters and",
        "digits turned into `_`.",
    ]
    for component, title in COMPONENTS.items():
        lines += [
            "",
            f"## {component}",
            "",
            f"Read by {title}.",
            "",
            "| variable | type | default | meaning |",
            "| --- | --- | --- | --- |",
        ]
        for entry in VARIABLES:
            if entry.component != component:
                continue
            default = entry.default_text()
            if entry.shown_default is None and default != "none":
                default = f"`{default}`"
            kind = entry.kind.description + (", secret" if entry.secret else "")
            lines.append(
                f"| `{entry.name}` | {_cell(kind)} | {_cell(default)} | {_cell(entry.meaning)} |"
            )
    return "\n".join(lines) + "\n"


@click.command("settings")
@click.option("--markdown", "as_markdown", is_flag=True, help="Print docs/settings.md instead.")
def settings_command(as_markdown: bool) -> None:
    """List every environment setting with its effective value (secrets masked); exit
    with status 1 when one is invalid."""
    if as_markdown:
        click.echo(markdown(), nl=False)
        return
    rows = [(name, shown) for _entry, name, shown in effective()]
    width = max(len(name) for name, _shown in rows)
    for name, shown in rows:
        click.echo(f"{name:<{width}}  {shown}")
    if any(shown.endswith(")") and "(invalid: " in shown for _name, shown in rows):
        raise click.ClickException("some settings are invalid; see (invalid: ...) above")
