"""Mercure 1.0 topic matchers: ``exact`` and ``urlpattern`` (WHATWG URL Pattern).

A matcher is a (type, value) pair. The value ``*`` is the reserved wildcard, whatever the
type. An ``exact`` matcher compares the topic byte for byte (no normalization, no
resolution). A ``urlpattern`` matcher is a URL Pattern, absolute or relative; relative
patterns and relative topics are resolved against the hub's URL (its resource identifier),
so ``/.well-known/mercure/subscriptions/exact/:m/:s`` matches the hub's own subscription
events. A topic that cannot be parsed as a URL does not match any pattern.

Matching is linear in time: patterns are compiled by the ``urlpattern`` package (the
URL Pattern implementation of the Deno and Node runtimes, in Rust), whose regular
expressions run on Rust's ``regex`` engine, which never backtracks (so a pattern like
``(a*)*b`` costs time linear in the topic). Its compilation is bounded by
:data:`MAX_PATTERN_LENGTH` and the engine's own size limit: a pattern past either is
invalid (400 in a request, ``invalid_token`` in a token). The case of components is kept:
``ignoreCase`` is never enabled (host names are case-insensitive by URL parsing).

Where compiled patterns live: a :class:`MatcherSet` (a subscriber's matchers, or its
token's ``subscribe`` grants) holds its patterns for as long as it lives; identical sets
are shared (weak registry) and remember the answer for the last update's topics, so ten
thousand subscribers to one pattern cost one match. :func:`compile_pattern` keeps an LRU of
the :data:`PATTERN_CACHE_SIZE` patterns used last for one-off checks (publish grants).
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from urlpattern import URLPattern

from app.hub.topics import CompiledSet

__all__ = [
    "EXACT",
    "MATCHER_TYPES",
    "MAX_MATCHED_TOPIC",
    "MAX_MATCHERS",
    "MAX_PATTERN_LENGTH",
    "MAX_PATTERN_PARTS",
    "MAX_REPETITION",
    "URLPATTERN",
    "WILDCARD",
    "Matcher",
    "MatcherError",
    "MatcherSet",
    "compile_pattern",
    "invalid_value",
    "matcher_type",
    "matches",
    "parse_matchers",
]

EXACT = "exact"
URLPATTERN = "urlpattern"
MATCHER_TYPES = (EXACT, URLPATTERN)
"""The matcher types this hub supports, in their canonical (case-sensitive) spelling."""
WILDCARD = "*"
MAX_MATCHERS = 100
"""The most matchers one subscription request, or one token's ``topics`` array, may carry."""
MAX_PATTERN_LENGTH = 4096
"""The longest matcher value, in characters (as the reference hub's 1.0 line)."""
MAX_PATTERN_PARTS = 32
"""The most wildcards, named groups, regexp groups and ``{}`` groups in one URL pattern."""
MAX_REPETITION = 32
"""The largest count a ``{n,m}`` repetition in a URL pattern's regexp may name."""
MAX_MATCHED_TOPIC = 2048
"""Topics longer than this many characters match no URL pattern (only exact matchers and
``*``): with the bounds above, one pattern test then stays far below a millisecond."""
PATTERN_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class Matcher:
    """A topic matcher: its type (:data:`MATCHER_TYPES`) and its value."""

    type: str
    value: str


def invalid_value(value: str) -> bool:
    """Whether ``value`` holds what no 1.0 topic, matcher, id or type may hold: a C0 or C1
    control, DEL, a Unicode format character (category ``Cf``) or invalid UTF-8 (a lone
    surrogate, as a request decoded with ``surrogateescape`` carries it)."""
    for character in value:
        code = ord(character)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            return True
        if code > 0x9F and unicodedata.category(character) == "Cf":
            return True
    return False


_PART = re.compile(r"\\.|([*({])|(:[A-Za-z_$])")
_REPETITION = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def too_complex(value: str) -> bool:
    """Whether the URL pattern ``value`` has more than :data:`MAX_PATTERN_PARTS` parts or
    a repetition past :data:`MAX_REPETITION`: its matching cost grows with both."""
    parts = sum(1 for m in _PART.finditer(value) if m.group(1) or m.group(2))
    if parts > MAX_PATTERN_PARTS:
        return True
    return any(
        int(number) > MAX_REPETITION
        for m in _REPETITION.finditer(value)
        for number in m.groups()
        if number
    )


@lru_cache(maxsize=PATTERN_CACHE_SIZE)
def compile_pattern(value: str, base: str) -> URLPattern | None:
    """``value`` compiled as a URL Pattern relative to ``base``; ``None`` when invalid,
    longer than :data:`MAX_PATTERN_LENGTH` or :func:`too_complex`."""
    if len(value) > MAX_PATTERN_LENGTH or too_complex(value):
        return None
    try:
        return URLPattern(value, base)
    except (ValueError, TypeError):
        return None


def _test(pattern: URLPattern, topic: str, base: str) -> bool:
    if len(topic) > MAX_MATCHED_TOPIC:
        return False
    try:
        return pattern.test(topic, base)
    except (ValueError, TypeError):  # pragma: no cover - the binding answers False
        return False


def matches(matcher: Matcher, topic: str, base: str) -> bool:
    """Whether ``matcher`` matches ``topic`` (an invalid pattern matches nothing)."""
    if matcher.value == WILDCARD:
        return True
    if matcher.type == EXACT:
        return matcher.value == topic
    pattern = compile_pattern(matcher.value, base)
    return pattern is not None and _test(pattern, topic, base)


class MatcherError(ValueError):
    """A subscription request's matchers are refused (400); the message says why."""


def matcher_type(name: str) -> str | None:
    """The matcher type a query parameter ``name`` selects (``match`` is ``exact``,
    ``match_<type>`` that type), or ``None`` when it is not a matcher parameter; raises
    :class:`MatcherError` for any other name in the reserved ``match`` namespace (names
    are case-sensitive, so ``Match`` or ``match_URLPattern`` are refused)."""
    if name == "match":
        return EXACT
    if name.startswith("match_") and name[6:] in MATCHER_TYPES:
        return name[6:]
    if name[:5].lower() == "match":
        raise MatcherError(
            f"Unknown topic matcher parameter {name!r}: use match, match_exact or "
            "match_urlpattern (names are case-sensitive)."
        )
    return None


def parse_matchers(
    pairs: Iterable[tuple[str, str]], max_patterns: int, base: str
) -> tuple[Matcher, ...]:
    """The matchers of a 1.0 subscription request's decoded query ``pairs``, in order,
    duplicates dropped. Raises :class:`MatcherError` for an unknown ``match*`` name, a
    value with a control or format character or invalid UTF-8, a value longer than
    :data:`MAX_PATTERN_LENGTH`, more than :data:`MAX_MATCHERS` matchers, more than
    ``max_patterns`` URL patterns (``MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION``), a URL
    pattern that does not compile, or no matcher at all."""
    matchers: dict[Matcher, None] = {}
    patterns = 0
    for name, value in pairs:
        kind = matcher_type(name)
        if kind is None:
            continue
        if len(matchers) >= MAX_MATCHERS:
            raise MatcherError(f"Too many topic matchers (at most {MAX_MATCHERS}).")
        if invalid_value(value):
            raise MatcherError(
                f"The {name!r} value holds a control or format character or invalid UTF-8."
            )
        if len(value) > MAX_PATTERN_LENGTH:
            raise MatcherError(
                f"The {name!r} value is longer than {MAX_PATTERN_LENGTH} characters."
            )
        matcher = Matcher(kind, value)
        if kind == URLPATTERN and value != WILDCARD and matcher not in matchers:
            patterns += 1
            if patterns > max_patterns:
                raise MatcherError(
                    f"More than {max_patterns} URL patterns in one subscription "
                    "(MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION)."
                )
            if compile_pattern(value, base) is None:
                raise MatcherError(
                    f"{value[:100]!r} is not a valid URL pattern (at most "
                    f"{MAX_PATTERN_PARTS} wildcards and groups, repetitions up to "
                    f"{MAX_REPETITION})."
                )
        matchers[matcher] = None
    if not matchers:
        raise MatcherError('Missing "match" parameter.')
    return tuple(matchers)


class MatcherSet(CompiledSet):
    """Matchers compiled together: exact values in a set, URL patterns held compiled.

    Build with :meth:`of`, which shares one instance between identical sets. Values are
    expected valid (checked where they came in); an invalid pattern matches nothing.
    """

    __slots__ = ("_base",)

    _registry: weakref.WeakValueDictionary[tuple[tuple[Matcher, ...], str], MatcherSet]
    _registry = weakref.WeakValueDictionary()

    def __init__(self, matchers: tuple[Matcher, ...], base: str) -> None:
        self._base = base
        patterns = []
        for matcher in matchers:
            if matcher.type == URLPATTERN:
                compiled = compile_pattern(matcher.value, base)
                if compiled is not None:
                    patterns.append(compiled)
        super().__init__(
            frozenset(m.value for m in matchers if m.type == EXACT),
            any(matcher.value == WILDCARD for matcher in matchers),
            tuple(patterns),
        )

    @classmethod
    def of(cls, matchers: Iterable[Matcher], base: str) -> MatcherSet:
        """The set of ``matchers`` resolved against ``base``, shared while anything holds it."""
        found: MatcherSet = cls._shared(matchers, base)
        return found

    def _match_compiled(self, topics: tuple[str, ...]) -> bool:
        base = self._base
        for pattern in self._compiled:
            for topic in topics:
                if _test(pattern, topic, base):
                    return True
        return False
