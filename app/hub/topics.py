"""Topic selector matching, as the Mercure spec defines it.

A selector matches a topic when it is ``*``, when both strings are equal, or when the
selector is an RFC 6570 URI template (it contains ``{``) and the topic is one of its
expansions. Templates are compiled once to anchored regular expressions:

* every expression is an optional group, since undefined variables expand to nothing;
* ``{var}``, ``{.var}``, ``{/var}``, ``{;var}``, ``{?var}`` and ``{&var}`` values hold only
  unreserved characters and percent-encoded octets, so ``{var}`` never crosses ``/``;
* ``{+var}`` and ``{#var}`` values may also hold reserved characters (``/``, ``?``, ...);
* a list of variables matches any ordered subset of them joined by the operator's
  separator, and ``name=value`` pairs for the named operators ``;``, ``?`` and ``&``.

A selector containing ``{`` that is not a valid template matches only itself.
Compiled templates and (selector, topic) results live in bounded LRU caches, so matching
the same pair again costs one dictionary look-up. Everything here is pure and thread-safe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["compile_template", "is_template", "match", "match_any"]

TEMPLATE_CACHE_SIZE = 4096
MATCH_CACHE_SIZE = 65536

_PCT = r"%[0-9A-Fa-f]{2}"
_UNRESERVED = r"A-Za-z0-9\-._~"
_RESERVED = r":/?#\[\]@!$&'()*+,;="
_VARNAME = re.compile(r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*")
_VARSPEC = re.compile(rf"({_VARNAME.pattern})(?::([1-9][0-9]{{0,3}})|(\*))?")
_LITERAL_FORBIDDEN = re.compile(r"[\x00-\x20\"'<>\\^`|}]")

# operator -> (first, separator, named, allow reserved)
_OPERATORS: dict[str, tuple[str, str, bool, bool]] = {
    "": ("", ",", False, False),
    "+": ("", ",", False, True),
    "#": ("#", ",", False, True),
    ".": (".", ".", False, False),
    "/": ("/", "/", False, False),
    ";": (";", ";", True, False),
    "?": ("?", "&", True, False),
    "&": ("&", "&", True, False),
}


def is_template(selector: str) -> bool:
    """Whether ``selector`` is treated as a URI template (it contains ``{``)."""
    return "{" in selector


def _value_pattern(allow_reserved: bool) -> str:
    chars = _UNRESERVED + "," if not allow_reserved else _UNRESERVED + _RESERVED
    return rf"(?:[{chars}]|{_PCT})*"


def _varspec_pattern(name: str, explode: bool, operator: str) -> str:
    _first, separator, named, allow_reserved = _OPERATORS[operator]
    value = _value_pattern(allow_reserved)
    if named:
        if explode:
            pair = rf"(?:[{_UNRESERVED}]|{_PCT})+(?:={value})?"
            return rf"{pair}(?:{re.escape(separator)}{pair})*"
        empty_ok = "?" if operator == ";" else ""
        return rf"{re.escape(name)}(?:={value}){empty_ok}"
    if explode:
        return rf"{value}(?:{re.escape(separator)}{value})*"
    return value


def _expression_pattern(expression: str) -> str:
    operator = expression[0] if expression and expression[0] in "+#./;?&" else ""
    body = expression[len(operator) :]
    if not body:
        raise ValueError("empty expression")
    parts: list[str] = []
    for spec in body.split(","):
        found = _VARSPEC.fullmatch(spec)
        if found is None:
            raise ValueError(f"invalid variable {spec!r}")
        parts.append(_varspec_pattern(found.group(1), found.group(3) is not None, operator))
    first, separator, _named, _reserved = _OPERATORS[operator]
    sep = re.escape(separator)
    # Any ordered, non-empty subset of the variables, joined by the separator.
    alternatives = [
        parts[i] + "".join(f"(?:{sep}{later})?" for later in parts[i + 1 :])
        for i in range(len(parts))
    ]
    return f"(?:{re.escape(first)}(?:{'|'.join(alternatives)}))?"


@lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def compile_template(template: str) -> re.Pattern[str] | None:
    """Compile ``template`` to an anchored regex, or ``None`` when it is not a valid template."""
    pattern: list[str] = []
    position = 0
    try:
        while position < len(template):
            start = template.find("{", position)
            end = len(template) if start == -1 else start
            literal = template[position:end]
            if _LITERAL_FORBIDDEN.search(literal):
                return None
            pattern.append(re.escape(literal))
            if start == -1:
                break
            close = template.find("}", start)
            if close == -1 or "{" in template[start + 1 : close]:
                return None
            pattern.append(_expression_pattern(template[start + 1 : close]))
            position = close + 1
    except ValueError:
        return None
    return re.compile("".join(pattern) + r"\Z")


@lru_cache(maxsize=MATCH_CACHE_SIZE)
def match(selector: str, topic: str) -> bool:
    """Whether ``topic`` matches ``selector`` (``*``, equality, or URI template)."""
    if selector == "*" or selector == topic:
        return True
    if "{" not in selector:
        return False
    compiled = compile_template(selector)
    return compiled is not None and compiled.match(topic) is not None


def match_any(selectors: Iterable[str], topics: Iterable[str]) -> bool:
    """Whether any of ``topics`` matches any of ``selectors``."""
    topic_list = tuple(topics)
    return any(match(selector, topic) for selector in selectors for topic in topic_list)
