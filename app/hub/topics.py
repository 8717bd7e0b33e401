"""Topic selector matching, as the reference hub does it, in time linear in the topic.

A selector matches a topic when it is ``*``, when both strings are equal, or when the
selector is a URI template (it contains ``{`` and parses, see :mod:`app.hub.uritemplate`)
whose language holds the topic. A template is compiled once to an RE2 automaton
(``google-re2``): RE2 never backtracks, so a match costs time linear in the topic's length
whatever the selector, and compiling costs time linear in the template's length.

Limits (:class:`TemplateLimits`, from the hub settings) bound what one template costs: a
template longer than ``max_length`` characters or listing more than ``max_variables``
variables is never compiled and matches only the identical topic, as a selector that is not
a template does. The subscribe handler refuses such selectors, and subscriptions with more
than ``max_templates`` templates, with a 400 naming the limit and its setting
(:func:`selectors_problem`); in a token's ``mercure.publish`` or ``mercure.subscribe`` claim
such a template matches only the identical topic.

Where compiled templates live:

* a :class:`Selection` (a subscriber's selectors, or its token's ``mercure.subscribe``
  claim) holds its templates' automata for as long as it lives, so a publish never
  recompiles what a connected subscriber uses; identical selections and identical
  templates are shared (weak registries), and a selection remembers its answer for the
  last update's topics, so ten thousand subscribers to one template cost one match;
* :func:`match` and :func:`match_any` (publish claims, subscriptions API) go through an LRU
  of the :data:`TEMPLATE_CACHE_SIZE` templates used last.

Each automaton gets :data:`AUTOMATON_MEMORY` bytes for RE2's program and lazily built DFA
states (past it RE2 resets its DFA cache or runs its NFA, still linear). Everything here is
pure and thread-safe.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import re2  # type: ignore[import-untyped]

from app.hub.uritemplate import parse, pattern

__all__ = [
    "AUTOMATON_MEMORY",
    "DEFAULT_LIMITS",
    "MAX_LENGTH_CEILING",
    "MAX_VARIABLES_CEILING",
    "Compiled",
    "Selection",
    "TemplateLimits",
    "compile_template",
    "is_template",
    "match",
    "match_any",
    "selectors_problem",
]

DEFAULT_MAX_LENGTH = 1024
DEFAULT_MAX_VARIABLES = 32
DEFAULT_MAX_TEMPLATES = 16
MAX_LENGTH_CEILING = 8192
MAX_VARIABLES_CEILING = 256
"""The highest limits the settings accept: a template at both still compiles within
:data:`AUTOMATON_MEMORY`, and within RE2's counted-repetition bound of 1000."""

TEMPLATE_CACHE_SIZE = 256
AUTOMATON_MEMORY = 1024 * 1024
"""RE2's memory budget per automaton. A template at the default limits compiles to about
60 KB and its DFA needs this budget to run at full speed on long topics; most templates use
a few KB, and DFA states are only built as topics need them."""

# The binding's core objects, not its ``re``-like wrapper: the wrapper keeps every pattern
# it compiled in a module-wide cache of its own, and converts match offsets back to
# characters on each call, which costs more than the match itself on short topics.
_ANCHOR_BOTH: Any = re2._re2.RE2.Anchor.ANCHOR_BOTH


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """How large a URI template selector, and a subscription's templates, may be."""

    max_length: int = DEFAULT_MAX_LENGTH
    """``MERCURE_TOPIC_TEMPLATE_MAX_LENGTH``: characters of one template."""
    max_variables: int = DEFAULT_MAX_VARIABLES
    """``MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES``: variables in one template, all its
    expressions together."""
    max_templates: int = DEFAULT_MAX_TEMPLATES
    """``MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION``: template selectors in one subscription
    (exact topics do not count)."""


DEFAULT_LIMITS = TemplateLimits()


@dataclass(frozen=True, slots=True, weakref_slot=True)
class Compiled:
    """A template's automaton, how many variables it lists, and what every match holds."""

    template: str
    automaton: Any
    variables: int
    prefix: str = ""
    """The template's leading literal: every topic it matches starts with it."""
    suffix: str = ""
    """The template's trailing literal: every topic it matches ends with it."""
    shortest: int = 0
    """The length of its literals together: no shorter topic matches."""

    def fullmatch(self, topic: str) -> bool:
        """Whether the whole of ``topic`` is in the template's language."""
        # Most topics a template is asked about belong to other resources: its literals
        # tell them apart without calling the automaton.
        if (
            len(topic) < self.shortest
            or not topic.startswith(self.prefix)
            or not topic.endswith(self.suffix)
        ):
            return False
        try:
            encoded = topic.encode()
        except UnicodeEncodeError:
            # A lone surrogate: neither a character class nor a literal of a template
            # holds one (the reference's regexp does not match invalid UTF-8 either).
            return False
        found: bool = self.automaton.Match(_ANCHOR_BOTH, encoded, 0, len(encoded))[0][0] >= 0
        return found


def _options() -> Any:
    options = re2.Options()
    options.max_mem = AUTOMATON_MEMORY
    options.never_capture = True
    options.log_errors = False
    return options


_OPTIONS = _options()
_INVALID = Compiled("", None, 0)
"""What the caches hold for a selector that is not a template."""
_live: weakref.WeakValueDictionary[str, Compiled] = weakref.WeakValueDictionary()


def is_template(selector: str) -> bool:
    """Whether ``selector`` may be a URI template (it contains ``{``)."""
    return "{" in selector


def _compile(template: str) -> Compiled:
    """``template``'s automaton (shared while anything holds it), or :data:`_INVALID`."""
    found = _live.get(template)
    if found is not None:
        return found
    parsed = parse(template)
    if parsed is None:
        return _INVALID
    automaton = re2._re2.RE2(pattern(parsed).encode(), _OPTIONS)
    if not automaton.ok():  # pragma: no cover - the ceilings keep templates within budget
        return _INVALID
    parts = parsed.parts
    compiled = Compiled(
        template,
        automaton,
        parsed.variables,
        prefix=parts[0] if isinstance(parts[0], str) else "",
        suffix=parts[-1] if isinstance(parts[-1], str) else "",
        shortest=sum(len(part) for part in parts if isinstance(part, str)),
    )
    _live[template] = compiled
    return compiled


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _recent(template: str) -> Compiled:
    return _compile(template)


def compile_template(template: str, limits: TemplateLimits = DEFAULT_LIMITS) -> Compiled | None:
    """``template`` compiled, or ``None`` when it is not a template or is past ``limits``.

    Compiling costs time linear in ``len(template)``, at most ``limits.max_length``.
    """
    if len(template) > limits.max_length or "{" not in template:
        return None
    compiled = _recent(template)
    if compiled is _INVALID or compiled.variables > limits.max_variables:
        return None
    return compiled


def selectors_problem(
    selectors: Iterable[str], limits: TemplateLimits = DEFAULT_LIMITS
) -> str | None:
    """Why the hub refuses a subscription to ``selectors``, or ``None`` when it takes it.

    Only URI templates count: a selector that does not parse as a template is an exact
    topic, never compiled, whatever its length. Nothing is compiled here, so a refused
    subscription costs one parse of its selectors, linear in their length.
    """
    templates = 0
    for selector in dict.fromkeys(selectors):
        if "{" not in selector:
            continue
        parsed = parse(selector)
        if parsed is None:
            continue
        if len(selector) > limits.max_length:
            return (
                f'"topic" URI template longer than {limits.max_length} characters '
                "(MERCURE_TOPIC_TEMPLATE_MAX_LENGTH)."
            )
        if parsed.variables > limits.max_variables:
            return (
                f'"topic" URI template with more than {limits.max_variables} variables '
                "(MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES)."
            )
        templates += 1
    if templates > limits.max_templates:
        return (
            f'More than {limits.max_templates} URI templates in "topic" parameters '
            "(MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION)."
        )
    return None


def match(selector: str, topic: str, limits: TemplateLimits = DEFAULT_LIMITS) -> bool:
    """Whether ``topic`` matches ``selector`` (``*``, equality, or URI template)."""
    if selector == "*" or selector == topic:
        return True
    compiled = compile_template(selector, limits)
    return compiled is not None and compiled.fullmatch(topic)


def match_any(
    selectors: Iterable[str], topics: Iterable[str], limits: TemplateLimits = DEFAULT_LIMITS
) -> bool:
    """Whether any of ``topics`` matches any of ``selectors``."""
    topic_list = tuple(topics)
    return any(match(selector, topic, limits) for selector in selectors for topic in topic_list)


class CompiledSet:
    """What a 0.x :class:`Selection` and a 1.0 matcher set share: exact values in a set,
    the rest compiled (:meth:`_match_compiled`), the wildcard short-cut, the answer for the
    last topics asked about, and one shared instance per identical set (:meth:`_shared`,
    over each subclass's own weak ``_registry``)."""

    __slots__ = ("__weakref__", "_compiled", "_exact", "_memo", "wildcard")

    _registry: weakref.WeakValueDictionary[tuple[tuple[Any, ...], Any], Any]

    def __init__(self, exact: frozenset[str], wildcard: bool, compiled: tuple[Any, ...]) -> None:
        self._exact = exact
        self.wildcard = wildcard
        self._compiled = compiled
        # The last topics asked about (by identity) and the answer.
        self._memo: tuple[tuple[str, ...] | None, bool] = (None, False)

    @classmethod
    def _shared(cls, values: Iterable[Any], context: Any) -> Any:
        """The instance for ``values`` (deduplicated, in order) and ``context``, built by
        ``cls(values, context)`` once and shared while anything holds it."""
        key = (tuple(dict.fromkeys(values)), context)
        found = cls._registry.get(key)
        if found is None:
            found = cast(Any, cls)(key[0], context)
            cls._registry[key] = found
        return found

    @property
    def exact_only(self) -> bool:
        """Whether every value is an exact topic (no wildcard, nothing compiled)."""
        return not self.wildcard and not self._compiled

    def matches(self, topics: tuple[str, ...]) -> bool:
        """Whether one of ``topics`` matches one of the values."""
        if self.wildcard:
            return True
        last, answer = self._memo
        if last is topics:
            return answer
        answer = False
        exact = self._exact
        for topic in topics:
            if topic in exact:
                answer = True
                break
        else:
            answer = self._match_compiled(topics)
        self._memo = (topics, answer)
        return answer

    def _match_compiled(self, topics: tuple[str, ...]) -> bool:
        raise NotImplementedError


class Selection(CompiledSet):
    """Selectors compiled together: exact ones in a set, templates as held automata.

    Build with :meth:`of`, which shares one instance between identical selections.
    """

    __slots__ = ()

    _registry: weakref.WeakValueDictionary[tuple[tuple[str, ...], TemplateLimits], Selection]
    _registry = weakref.WeakValueDictionary()

    def __init__(self, selectors: tuple[str, ...], limits: TemplateLimits) -> None:
        exact = frozenset(selectors)
        templates: dict[str, Compiled] = {}
        for selector in selectors:
            compiled = compile_template(selector, limits)
            if compiled is not None:
                templates[selector] = compiled
        super().__init__(exact, "*" in exact, tuple(templates.values()))

    @classmethod
    def of(cls, selectors: Iterable[str], limits: TemplateLimits = DEFAULT_LIMITS) -> Selection:
        """The selection of ``selectors`` under ``limits``, shared while anything holds it."""
        found: Selection = cls._shared(selectors, limits)
        return found

    def _match_compiled(self, topics: tuple[str, ...]) -> bool:
        for compiled in self._compiled:
            for topic in topics:
                if compiled.fullmatch(topic):
                    return True
        return False
