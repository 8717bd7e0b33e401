"""Mercure 1.0 authorization: JWT access tokens (RFC 9068) with authorization details.

A token is accepted only when (:meth:`AccessTokenVerifier.verify`):

* its header's ``typ`` is ``at+jwt`` (or ``application/at+jwt``, case-insensitive), so an
  ID token or a 0.x hub token is refused;
* its ``iss`` is a trusted issuer, and its signature verifies with that issuer's keys
  only, under that issuer's algorithms (``none`` never; the header cannot bring a key):
  the hub's own issuer (``MERCURE_ISSUER``) uses the hub's publisher key on the publish
  endpoint and its subscriber key elsewhere, other issuers (``MERCURE_ISSUERS``) a key, a
  JWK Set file or a JWK Set URL;
* its ``aud`` is, or lists, the hub's resource identifier;
* it has an ``exp`` that has not passed (``nbf`` enforced when present), within
  ``MERCURE_JWT_LEEWAY``;
* every entry of ``authorization_details`` of the Mercure type parses: a non-empty
  ``actions`` array of strings (unknown actions grant nothing), a non-empty ``topics``
  array of matcher objects (``match``, optional ``match_type`` among ``exact`` and
  ``urlpattern``, patterns that compile), an optional object ``payload``; within
  :data:`MAX_DETAILS` entries of :data:`~app.hub.matchers.MAX_MATCHERS` matchers each.

Any failure raises :class:`InvalidToken` (answered ``401 invalid_token``, without saying
which check failed). What a valid token grants is a :class:`Grants`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import jwt
from jwt.algorithms import get_default_algorithms

from app.hub.auth import AuthorizationError, Verifier
from app.hub.matchers import (
    EXACT,
    MATCHER_TYPES,
    MAX_MATCHERS,
    MAX_PATTERN_LENGTH,
    URLPATTERN,
    WILDCARD,
    Matcher,
    MatcherSet,
    compile_pattern,
    invalid_value,
    matches,
)
from app.hub.settings import IssuerSettings

__all__ = [
    "AUTHORIZATION_DETAIL_TYPE",
    "MAX_DETAILS",
    "PUBLISH",
    "PUBLISHER",
    "SUBSCRIBE",
    "SUBSCRIBER",
    "AccessTokenVerifier",
    "Grants",
    "InvalidToken",
    "KeySource",
    "SubscribeGrant",
    "VerifierKeys",
    "is_access_token",
    "issuer_keys",
]

logger = logging.getLogger(__name__)

AUTHORIZATION_DETAIL_TYPE = "https://mercure.rocks/authorization-detail"
PUBLISH = "publish"
SUBSCRIBE = "subscribe"
PUBLISHER = "publisher"
SUBSCRIBER = "subscriber"
JWKS_LIFESPAN = 300.0
"""Seconds an issuer's JWK Set fetched from its URL is trusted before it is fetched again."""
JWKS_COOLDOWN = 30.0
"""The least seconds between two fetches of an issuer's JWK Set for an unknown ``kid``."""
MAX_DETAILS = 100
"""The most Mercure authorization details one token may carry."""


class InvalidToken(Exception):
    """The presented token cannot be used (``401 invalid_token``); the message is for logs."""


class KeySource(Protocol):
    """Where an issuer's verification key for a token comes from."""

    algorithms: tuple[str, ...]

    def key_for(self, token: str) -> Any: ...


@dataclass(frozen=True)
class SubscribeGrant:
    """One ``subscribe`` authorization detail: its matchers and payload."""

    matchers: tuple[Matcher, ...]
    payload: Any = None


@dataclass(frozen=True)
class Grants:
    """What a valid 1.0 access token allows."""

    publish: tuple[Matcher, ...]
    subscribe: tuple[SubscribeGrant, ...]
    expires_at: float
    subject: str | None = None
    issuer: str = ""
    subscribe_matchers: tuple[Matcher, ...] = field(init=False)

    def __post_init__(self) -> None:
        merged = tuple(m for grant in self.subscribe for m in grant.matchers)
        object.__setattr__(self, "subscribe_matchers", tuple(dict.fromkeys(merged)))

    def may_publish(self, topic: str, base: str) -> bool:
        """Whether a ``publish`` matcher matches ``topic``."""
        return any(matches(matcher, topic, base) for matcher in self.publish)

    def may_subscribe(self, topic: str, base: str) -> bool:
        """Whether a ``subscribe`` matcher matches ``topic`` (private reads, the API)."""
        return any(matches(matcher, topic, base) for matcher in self.subscribe_matchers)

    def reading(self, base: str) -> MatcherSet:
        """The compiled ``subscribe`` matchers, which private updates must match."""
        return MatcherSet.of(self.subscribe_matchers, base)

    def payload_for(self, value: str, base: str) -> Any:
        """The payload of the first ``subscribe`` detail matching the subscription's own
        matcher string ``value`` (treated as a topic), or ``None``."""
        for grant in self.subscribe:
            if any(matches(matcher, value, base) for matcher in grant.matchers):
                return grant.payload
        return None


def is_access_token(token: str) -> bool:
    """Whether ``token``'s header says it is a JWT access token (``typ: at+jwt``).

    Used to tell a 1.0 token from a 0.x one before choosing how to verify it; nothing is
    trusted from it.
    """
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return False
    return _typ_ok(header.get("typ"))


def _typ_ok(typ: Any) -> bool:
    if not isinstance(typ, str):
        return False
    lowered = typ.lower()
    lowered = lowered.removeprefix("application/")
    return lowered == "at+jwt"


class StaticKey:
    """One configured key (HMAC secret or PEM public key) with its algorithms.

    The key must serve every one of them: an RSA key listed for ``HS256`` as well would
    meet an ``HS256`` token with a server error (PyJWT cannot use it as an HMAC secret)."""

    def __init__(self, key: str, algorithms: Sequence[str]) -> None:
        self.algorithms = tuple(algorithms)
        prepared = []
        for name in self.algorithms:
            try:
                prepared.append(get_default_algorithms()[name].prepare_key(key))
            except Exception as error:
                raise ValueError(f"the key cannot be used with {name}: {error}") from None
        self._key = prepared[0]

    def key_for(self, token: str) -> Any:
        return self._key


class JwksKeys:
    """A JWK Set, from a URL or a file's text; the key is chosen by the token's ``kid``
    (or the set's only key).

    From a URL, the set is cached for :data:`JWKS_LIFESPAN` seconds and fetched again for
    an unknown ``kid`` at most once per :data:`JWKS_COOLDOWN` seconds, so forged ``kid``
    headers cannot make every request fetch it; no per-``kid`` cache, which would keep
    trusting retired keys. The key is the JWK itself, so PyJWT also refuses a token whose
    ``alg`` is not the key's own."""

    def __init__(
        self, algorithms: Sequence[str], *, url: str | None = None, text: str | None = None
    ) -> None:
        self.algorithms = tuple(algorithms)
        self._client = (
            jwt.PyJWKClient(
                url,
                cache_keys=False,
                lifespan=JWKS_LIFESPAN,
                cooldown_duration=JWKS_COOLDOWN,
                timeout=5,
            )
            if url
            else None
        )
        self._set = jwt.PyJWKSet.from_json(text) if text is not None else None

    def key_for(self, token: str) -> Any:
        if self._client is not None:
            try:
                return self._client.get_signing_key_from_jwt(token)
            except ValueError as error:  # a refetch that answered no JSON
                raise InvalidToken(f"the issuer's key set cannot be used: {error}") from None
        assert self._set is not None
        kid = jwt.get_unverified_header(token).get("kid")
        keys = self._set.keys
        for jwk in keys:
            if jwk.key_id == kid:
                return jwk
        if kid is None and len(keys) == 1:
            return keys[0]
        raise InvalidToken(f"no key with kid {kid!r}")


class VerifierKeys:
    """The key of a 0.x role verifier (the hub's own keys), for its local issuer."""

    def __init__(self, verifier: Verifier) -> None:
        self.algorithms: tuple[str, ...] = (verifier.algorithm,)
        self._verifier = verifier

    def key_for(self, token: str) -> Any:
        try:
            return self._verifier.key_for(token)
        except AuthorizationError as error:
            raise InvalidToken(str(error)) from None


def issuer_keys(issuer: IssuerSettings) -> KeySource:
    """The key source of a configured issuer. Raises :class:`ValueError` when unusable."""
    if issuer.key:
        return StaticKey(issuer.key, issuer.algorithms)
    if issuer.jwks_file is not None:
        return JwksKeys(issuer.algorithms, text=issuer.jwks_file.read_text(encoding="utf-8"))
    return JwksKeys(issuer.algorithms, url=issuer.jwks_url)


class AccessTokenVerifier:
    """Verifies 1.0 access tokens for one hub.

    ``issuers`` maps each trusted issuer identifier to its key source for each role
    (``"publisher"``, ``"subscriber"``); ``resource`` is the hub's resource identifier
    (the required audience and the base URL of relative patterns).
    """

    def __init__(
        self,
        resource: str,
        issuers: Mapping[str, Mapping[str, KeySource]],
        *,
        leeway: float = 0.0,
    ) -> None:
        self.resource = resource
        self._issuers = dict(issuers)
        self.leeway = leeway

    def verify(self, token: str, role: str) -> Grants:
        """Verify ``token`` presented to an endpoint of ``role``; raise :class:`InvalidToken`."""
        try:
            header = jwt.get_unverified_header(token)
            if not _typ_ok(header.get("typ")):
                raise InvalidToken('the token\'s "typ" is not "at+jwt"')
            unverified = jwt.decode(token, options={"verify_signature": False})
            issuer = unverified.get("iss")
            keys = self._issuers.get(issuer) if isinstance(issuer, str) else None
            source = None if keys is None else keys.get(role)
            if source is None:
                raise InvalidToken(f"untrusted issuer {issuer!r}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
                payload = jwt.decode(
                    token,
                    source.key_for(token),
                    algorithms=list(source.algorithms),
                    audience=self.resource,
                    issuer=issuer,
                    leeway=self.leeway,
                    options={"require": ["exp", "iss", "aud"], "verify_iat": False},
                )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from None
        return _grants(payload, self.resource)


def _grants(payload: Mapping[str, Any], base: str) -> Grants:
    details = payload.get("authorization_details", [])
    if not isinstance(details, list):
        raise InvalidToken('"authorization_details" must be an array')
    publish: list[Matcher] = []
    subscribe: list[SubscribeGrant] = []
    mercure = 0
    for detail in details:
        if not isinstance(detail, dict):
            raise InvalidToken("an authorization detail must be an object")
        if detail.get("type") != AUTHORIZATION_DETAIL_TYPE:
            continue  # another API's detail: not ours to judge
        mercure += 1
        if mercure > MAX_DETAILS:
            raise InvalidToken(f"more than {MAX_DETAILS} Mercure authorization details")
        actions = detail.get("actions")
        if (
            not isinstance(actions, list)
            or not actions
            or not all(isinstance(action, str) for action in actions)
        ):
            raise InvalidToken('"actions" must be a non-empty array of strings')
        matchers = _matchers(detail.get("topics"), base)
        payload_value = detail.get("payload")
        if "payload" in detail and not isinstance(payload_value, dict):
            raise InvalidToken('"payload" must be an object')
        if PUBLISH in actions:
            publish.extend(matchers)
        if SUBSCRIBE in actions:
            subscribe.append(SubscribeGrant(matchers, payload_value))
    try:
        expires = float(payload["exp"])
    except OverflowError:
        raise InvalidToken('the "exp" claim is out of range') from None
    subject = payload.get("sub")
    return Grants(
        publish=tuple(dict.fromkeys(publish)),
        subscribe=tuple(subscribe),
        expires_at=expires,
        subject=subject if isinstance(subject, str) else None,
        issuer=str(payload.get("iss", "")),
    )


def _matchers(topics: Any, base: str) -> tuple[Matcher, ...]:
    if not isinstance(topics, list) or not topics:
        raise InvalidToken('"topics" must be a non-empty array of matcher objects')
    if len(topics) > MAX_MATCHERS:
        raise InvalidToken(f'more than {MAX_MATCHERS} entries in "topics"')
    matchers = []
    for entry in topics:
        if not isinstance(entry, dict):
            raise InvalidToken("a topic matcher must be an object")
        value = entry.get("match")
        match_type = entry.get("match_type", EXACT)
        if not isinstance(value, str) or not isinstance(match_type, str):
            raise InvalidToken('a topic matcher needs a string "match"')
        if match_type not in MATCHER_TYPES:
            raise InvalidToken(f"unsupported match_type {match_type!r}")
        if len(value) > MAX_PATTERN_LENGTH or invalid_value(value):
            raise InvalidToken("invalid topic matcher value")
        if value != WILDCARD and match_type == URLPATTERN and compile_pattern(value, base) is None:
            raise InvalidToken("invalid URL pattern")
        matchers.append(Matcher(match_type, value))
    return tuple(matchers)
