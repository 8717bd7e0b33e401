"""Bearer JWTs of REST requests -> :class:`~app.access.user.User` (PyJWT).

A request without ``Authorization`` is anonymous (``None``). A present header must be
``Bearer <JWT>``, and the token must verify: signature with the configured key or the
provider's key named by ``kid`` (PyJWT's :class:`~jwt.PyJWKClient` caches the key set for
its lifespan and fetches it again for an unknown ``kid``, at most once per cooldown; a key
removed from the set is no longer trusted once the set is fetched again), one of the
configured algorithms (the header cannot choose another; ``none`` never verifies; a key of
the set verifies only with its own algorithm), the time claims as the hub reads them
(numbers; ``exp`` and ``nbf`` within the leeway; ``iat`` not compared with the clock),
``iss`` and ``aud`` when configured, and a non-empty string ``sub``. Anything else raises
:class:`~app.errors.Unauthorized` (401) with an RFC 6750 ``WWW-Authenticate`` header;
an unreachable key set raises :class:`~app.errors.ServiceUnavailable` (503).
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Mapping
from typing import Any

import jwt
from jwt.algorithms import get_default_algorithms

from app.access.user import User
from app.auth.settings import AuthSettings, AuthSettingsError
from app.errors import ServiceUnavailable, Unauthorized
from app.hub.auth import check_time_claims

__all__ = ["Authenticator"]

_BEARER = "bearer "
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]+")
"""A user id: no control character and no lone surrogate (neither can be stored)."""
VERIFIED_TTL = 60.0
"""Seconds a verified token is trusted without verifying it again."""
VERIFIED_CACHE_SIZE = 4096
"""Verified tokens remembered at most (the memory is cleared when full)."""


class Authenticator:
    """Verifies users' tokens as ``settings`` say. Raises :class:`AuthSettingsError` at
    construction for an unusable key. Thread- and greenlet-safe."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._key: Any = None
        self._jwks: jwt.PyJWKClient | None = None
        self._verified: dict[str, tuple[User, float]] = {}
        if settings.jwks_url:
            # No per-kid cache: it never expires, so it would keep trusting retired keys.
            self._jwks = jwt.PyJWKClient(
                settings.jwks_url,
                cache_keys=False,
                lifespan=int(settings.jwks_lifespan) or 1,
                cooldown_duration=settings.jwks_cooldown,
            )
        elif settings.key:
            implementation = get_default_algorithms()[settings.algorithms[0]]
            try:
                self._key = implementation.prepare_key(settings.key)
            except Exception as error:
                raise AuthSettingsError(
                    f"AUTH_JWT_KEY cannot be used with {settings.algorithms[0]}: {error}"
                ) from None

    @property
    def enabled(self) -> bool:
        return self.settings.configured

    def authenticate(self, header: str | None) -> User | None:
        """The user of a request whose ``Authorization`` header is ``header``."""
        if header is None or not self.enabled:
            return None
        if header[: len(_BEARER)].lower() != _BEARER or not header[len(_BEARER) :].strip():
            raise Unauthorized(
                'The Authorization header must be "Bearer <JWT>".',
                error="invalid_request",
                reason="use the Bearer scheme",
            )
        return self.verify(header[len(_BEARER) :].strip())

    def verify(self, token: str) -> User:
        """Verify ``token``; raise :class:`Unauthorized` when it cannot be trusted.

        A verified token is remembered for :data:`VERIFIED_TTL` seconds, and never past its
        ``exp``, so a client's repeated requests are verified once; at most
        :data:`VERIFIED_CACHE_SIZE` tokens are remembered."""
        now = time.monotonic()
        known = self._verified.get(token)
        if known is not None and known[1] > now and _unexpired(known[0]):
            return known[0]
        user = self._decode(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (user, now + VERIFIED_TTL)
        return user

    def _decode(self, token: str) -> User:
        settings = self.settings
        try:
            key = self._signing_key(token)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=list(settings.algorithms),
                    issuer=settings.issuer,
                    audience=settings.audience,
                    options={  # the time claims: check_time_claims
                        "require": ["sub"],
                        "verify_aud": settings.audience is not None,
                        "verify_exp": False,
                        "verify_nbf": False,
                        "verify_iat": False,
                    },
                )
            check_time_claims(claims, settings.leeway)
        except jwt.PyJWKClientConnectionError as error:
            raise ServiceUnavailable(
                f"The identity provider's key set cannot be fetched: {error}"
            ) from None
        except (jwt.PyJWTError, ValueError) as error:
            raise Unauthorized(
                f"Invalid token: {error}.", error="invalid_token", reason=_description(error)
            ) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or not _PRINTABLE.fullmatch(subject):
            raise Unauthorized(
                "Invalid token: 'sub' must be a non-empty string without control characters.",
                error="invalid_token",
                reason="sub must be a non-empty string without control characters",
            )
        expires = claims.get("exp")
        return User(
            id=subject,
            roles=_roles(claims, settings.roles_claim),
            expires_at=float(expires) if isinstance(expires, int | float) else None,
        )

    def _signing_key(self, token: str) -> Any:
        if self._jwks is None:
            return self._key
        try:
            # The provider's set (cached for its lifespan): an answer that is not a usable
            # key set is the provider's failure (503), not the client's.
            self._jwks.get_signing_keys()
        except jwt.PyJWKClientConnectionError:
            raise  # unreachable: 503 below
        except (jwt.PyJWTError, ValueError) as error:
            raise _provider_failure(error) from None
        try:
            # The PyJWK itself, not its key: PyJWT then refuses a token whose alg is not
            # the key's own (an ES256 header naming an RSA key's kid).
            return self._jwks.get_signing_key_from_jwt(token)
        except ValueError as error:  # a refetch for an unknown kid answered no JSON
            raise _provider_failure(error) from None


def _provider_failure(error: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"The identity provider's key set cannot be used: {error}")


def _description(error: Exception) -> str:
    """``error`` as an RFC 6750 ``error_description``: printable ASCII without quotes or
    backslashes, at most 200 characters. PyJWT's messages can quote the token's own
    header (its ``kid``), which must not put line breaks or non-Latin-1 text into a
    response header."""
    text = "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in str(error))
    return text[:200]


def _unexpired(user: User) -> bool:
    return user.expires_at is None or user.expires_at > time.time()


def _roles(claims: Mapping[str, Any], path: str) -> tuple[str, ...]:
    """The roles at the dotted ``path``: a list of strings or a space-separated string."""
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()
