"""JWT authorization of publishers and subscribers (PyJWT).

Token lookup order, as the spec requires: the ``Authorization: Bearer`` header (when the
header is present nothing else is read, and a non-Bearer value is invalid), then the
``authorization`` query parameter, then the cookie (``mercureAuthorization`` unless
configured). A ``POST`` authenticated by cookie must come from an ``Origin`` (or, failing
that, a ``Referer``) listed in the publish origins, which defeats cross-site request forgery.

Verification: the token's ``alg`` must be the configured algorithm of the role (the header
cannot choose it; ``none`` is never accepted), the signature must verify with the role's key
(or the JWKS key named by ``kid``), and the time claims are read as the reference reads them
(:func:`check_time_claims`: numbers only, ``exp``/``nbf`` enforced within the leeway,
``iat`` not compared with the clock). Claims are read from
``mercure`` or, failing that, the namespaced ``https://mercure.rocks/`` claim; a malformed
claim makes the token invalid. Every failure raises :class:`AuthorizationError` (401).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
from jwt.algorithms import get_default_algorithms

__all__ = [
    "AuthorizationError",
    "Claims",
    "TokenSource",
    "Verifier",
    "check_time_claims",
    "extract_token",
    "origin_allowed",
    "parse_claims",
    "request_origin",
]

logger = logging.getLogger(__name__)

NAMESPACED_CLAIM = "https://mercure.rocks/"
_BEARER = "bearer "


class AuthorizationError(Exception):
    """The request carries a token that cannot be used (answered 401)."""


@dataclass(frozen=True)
class Claims:
    """The Mercure claims of a verified token. ``None`` means the key was absent."""

    publish: tuple[str, ...] | None = None
    subscribe: tuple[str, ...] | None = None
    payload: Any = None
    expires_at: float | None = None


@dataclass(frozen=True)
class TokenSource:
    """Where a request's token came from: ``header``, ``query`` or ``cookie``."""

    token: str
    source: str


def extract_token(
    header: str | None, query_tokens: Sequence[str], cookie_token: str | None
) -> TokenSource | None:
    """Pick the request's token: the ``Authorization`` header value, else the
    ``authorization`` query parameter (``query_tokens``: its values, empty when absent),
    else the cookie; ``None`` when there is none.

    As the reference hub, the first place present decides, and a present but unusable
    token is refused rather than skipped: :class:`AuthorizationError` for a header that is
    not a non-empty ``Bearer`` token (the scheme is matched case-insensitively, RFC 9110)
    and for an ``authorization`` parameter that is empty or repeated. A present cookie,
    even empty, is returned for verification.
    """
    if header is not None:
        if header[: len(_BEARER)].lower() != _BEARER or not header[len(_BEARER) :].strip():
            raise AuthorizationError('invalid "Authorization" HTTP header: use "Bearer <JWT>"')
        return TokenSource(header[len(_BEARER) :].strip(), "header")
    if query_tokens:
        if len(query_tokens) != 1 or not query_tokens[0]:
            raise AuthorizationError(
                'invalid "authorization" query parameter: send exactly one non-empty JWT'
            )
        return TokenSource(query_tokens[0], "query")
    if cookie_token is not None:
        return TokenSource(cookie_token, "cookie")
    return None


def request_origin(origin: str | None, referer: str | None) -> str | None:
    """The request's ``Origin``, else the ``scheme://host`` of its ``Referer``, else ``None``."""
    if origin:
        return origin
    if not referer:
        return None
    parts = urlsplit(referer)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """Whether ``origin`` is in ``allowed`` (``*`` allows any present origin)."""
    if origin is None:
        return False
    return "*" in allowed or origin in allowed


def _selectors(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AuthorizationError(f'the "mercure.{name}" claim must be an array of strings')
    return tuple(value)


def parse_claims(payload: Mapping[str, Any]) -> Claims:
    """Read the Mercure claims of a decoded token payload."""
    mercure = payload.get("mercure")
    if mercure is None:
        mercure = payload.get(NAMESPACED_CLAIM)
    if mercure is None:
        mercure = {}
    if not isinstance(mercure, dict):
        raise AuthorizationError('the "mercure" claim must be an object')
    expires = payload.get("exp")
    return Claims(
        publish=_selectors(mercure.get("publish"), "publish"),
        subscribe=_selectors(mercure.get("subscribe"), "subscribe"),
        payload=mercure.get("payload"),
        expires_at=float(expires) if isinstance(expires, int | float) else None,
    )


def _finite(value: Any) -> bool:
    """Whether ``value`` converts to a finite float (a JSON integer may not: ``1e400``)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def check_time_claims(payload: Mapping[str, Any], leeway: float, now: float | None = None) -> None:
    """Check ``exp``, ``nbf`` and ``iat`` as the reference hub reads them.

    Each, when present, must be a JSON number (a numeric string or a boolean is refused,
    where PyJWT would convert the string); ``exp`` must be later than ``now - leeway``
    and ``nbf`` not later than ``now + leeway``; ``iat`` is not compared with the clock
    (a publisher whose clock runs slightly ahead is not refused). Raises
    :class:`ValueError` naming the claim.
    """
    for name in ("exp", "nbf", "iat"):
        value = payload.get(name)
        if name in payload and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f'the "{name}" claim must be a number')
        if name in payload and not _finite(value):
            raise ValueError(f'the "{name}" claim is out of range')
    moment = time.time() if now is None else now
    expires = payload.get("exp")
    if expires is not None and expires <= moment - leeway:
        raise ValueError("Signature has expired")
    not_before = payload.get("nbf")
    if not_before is not None and not_before > moment + leeway:
        raise ValueError("The token is not yet valid (nbf)")


class Verifier:
    """Verifies the tokens of one role (publisher or subscriber) with one algorithm.

    ``key`` is the HMAC secret or the PEM public key; ``jwks_file`` (a JSON Web Key Set)
    replaces it, the key being chosen by the token's ``kid`` (or the only key of the set).
    Raises :class:`ValueError` at construction for an unusable key.
    """

    def __init__(
        self,
        algorithm: str,
        key: str | None,
        jwks_file: Path | None = None,
        *,
        leeway: float = 0.0,
    ) -> None:
        self.algorithm = algorithm
        self.leeway = leeway
        self._keys: dict[str | None, Any] = {}
        implementation = get_default_algorithms().get(algorithm)
        if implementation is None:
            raise ValueError(f"JWT algorithm {algorithm!r} is not available")
        if jwks_file is not None:
            keyset = jwt.PyJWKSet.from_json(jwks_file.read_text(encoding="utf-8"))
            for jwk in keyset.keys:
                if isinstance(implementation, type(jwk.Algorithm)):
                    self._keys[jwk.key_id] = jwk.key
            if not self._keys:
                raise ValueError(f"the JWKS file {jwks_file} holds no key usable with {algorithm}")
        elif key:
            try:
                prepared = implementation.prepare_key(key)
            except Exception as error:
                raise ValueError(f"the {algorithm} key cannot be used: {error}") from error
            message = implementation.check_key_length(prepared)
            if message:
                logger.warning("Mercure hub JWT key: %s", message)
            self._keys[None] = prepared
        else:
            raise ValueError("a JWT key or a JWKS file is required")

    def key_for(self, token: str) -> Any:
        """The key verifying ``token`` (chosen by its ``kid`` in a JWKS)."""
        if None in self._keys:
            return self._keys[None]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as error:
            raise AuthorizationError(f"invalid JWT: {error}") from error
        if kid in self._keys:
            return self._keys[kid]
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        raise AuthorizationError(f"invalid JWT: no key with kid {kid!r} in the JWKS file")

    def verify(self, token: str) -> Claims:
        """Verify ``token`` and return its claims; raise :class:`AuthorizationError`."""
        key = self.key_for(token)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                payload = jwt.decode(
                    token,
                    key,
                    algorithms=[self.algorithm],
                    options={  # the time claims: check_time_claims
                        "verify_aud": False,
                        "verify_iss": False,
                        "verify_exp": False,
                        "verify_nbf": False,
                        "verify_iat": False,
                    },
                )
            check_time_claims(payload, self.leeway)
        except (jwt.PyJWTError, ValueError) as error:
            raise AuthorizationError(f"invalid JWT: {error}") from error
        return parse_claims(payload)
