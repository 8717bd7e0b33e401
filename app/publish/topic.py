"""Topic templates: ``/books/{book.id}/reviews/{id}`` over an object's fields.

Pure functions, no IO. A template is literal text with expressions in braces; an
expression names a dotted path through the object's attributes (``{id}``,
``{book.id}``). ``{name}`` percent-encodes everything but RFC 3986 unreserved characters,
as RFC 6570 simple expansion does; ``{+name}`` also keeps reserved characters (``/``,
``:``, ...), as RFC 6570 reserved expansion does. The whole entry :data:`IRI_PLACEHOLDER`
(``@iri``) stands for the absolute item IRI. Expansion never guesses: a missing or null
value, an object where a scalar is expected, or an unbalanced brace raises
:class:`TopicError` naming the template and the path.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from urllib.parse import quote
from uuid import UUID

IRI_PLACEHOLDER = "@iri"

_RESERVED = ":/?#[]@!$&'()*+,;="
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class TopicError(ValueError):
    """A template is malformed or cannot be expanded for one object."""


@dataclass(frozen=True, slots=True)
class Expression:
    """One ``{...}`` of a template: a dotted attribute path, reserved or not."""

    path: tuple[str, ...]
    reserved: bool


Part = str | Expression


@functools.cache
def parse(template: str) -> tuple[Part, ...]:
    """Split ``template`` into literal text and expressions, validating the syntax.

    Cached: templates come from the resources file, a fixed set, and are expanded for
    every update."""
    if template == IRI_PLACEHOLDER:
        return (template,)
    parts: list[Part] = []
    position = 0
    while position < len(template):
        opening = template.find("{", position)
        closing = template.find("}", position)
        if closing != -1 and (opening == -1 or closing < opening):
            raise TopicError(f"topic template {template!r} has a '}}' without a '{{'")
        if opening == -1:
            parts.append(template[position:])
            break
        if opening > position:
            parts.append(template[position:opening])
        end = template.find("}", opening)
        if end == -1:
            raise TopicError(f"topic template {template!r} has a '{{' that is never closed")
        body = template[opening + 1 : end]
        reserved = body.startswith("+")
        name = body[1:] if reserved else body
        if not _PATH.match(name):
            raise TopicError(
                f"topic template {template!r}: {{{body}}} is not a field path; "
                "write {field}, {relation.field} or {+field}"
            )
        parts.append(Expression(tuple(name.split(".")), reserved))
        position = end + 1
    return tuple(parts)


def literal(template: str, value: str = "x") -> str:
    """``template`` with every expression read as the plain ``value`` (what a topic looks
    like whatever the item, for start-up checks)."""
    return "".join(part if isinstance(part, str) else value for part in parse(template))


def paths(template: str) -> tuple[tuple[str, ...], ...]:
    """Return every attribute path ``template`` reads (for start-up validation)."""
    return tuple(part.path for part in parse(template) if isinstance(part, Expression))


def expand(template: str, resolve: Callable[[tuple[str, ...]], object], iri: str) -> str:
    """Expand ``template``; ``resolve`` maps a path to its value, ``iri`` replaces ``@iri``.

    Raises :class:`TopicError` when a value is ``None`` or not a scalar.
    """
    pieces: list[str] = []
    for part in parse(template):
        if part == IRI_PLACEHOLDER:
            return iri
        if isinstance(part, str):
            pieces.append(part)
            continue
        dotted = ".".join(part.path)
        value = resolve(part.path)
        if value is None:
            raise TopicError(f"topic template {template!r}: {{{dotted}}} is empty for this item")
        if not isinstance(value, str | int | float | bool) and not _is_scalar(value):
            raise TopicError(
                f"topic template {template!r}: {{{dotted}}} is an object, not a value; "
                f"name one of its fields, e.g. {{{dotted}.id}}"
            )
        text = _scalar_text(value)
        pieces.append(quote(text, safe=_RESERVED if part.reserved else ""))
    return "".join(pieces)


def _is_scalar(value: object) -> bool:
    """Dates, decimals, UUIDs and enums render as text; ORM objects do not."""
    return isinstance(value, datetime.date | datetime.time | Decimal | UUID | Enum)


def _scalar_text(value: object) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


_PATTERN_SPECIAL = re.compile(r"([\\:*()+?{}])")
_NAME_CHARACTER = re.compile(r"[A-Za-z0-9_$]")


def url_pattern(template: str, origin: str, route: str) -> str:
    """The WHATWG URL Pattern (Mercure 1.0 ``match_urlpattern``) matching every topic
    ``template`` expands to, for a resource at ``route`` under ``origin``.

    ``@iri`` is ``<origin><route>/:id``; a template's literal text is escaped, ``{path}``
    becomes a named group matching one path segment (``{book.id}`` is ``:book_id``) and
    ``{+path}`` one matching anything (``:path(.*)``); a relative template is made absolute
    against ``origin``, as its topics are. Raises :class:`TopicError` for a bad template.
    """
    parts = parse(template)
    if parts == (IRI_PLACEHOLDER,):
        return f"{origin}{_escape(route)}/:id"
    pieces: list[str] = []
    for index, part in enumerate(parts):
        if isinstance(part, str):
            if index == 0 and "://" in part:
                scheme_and_host, _, path = part.partition("://")
                host, slash, rest = path.partition("/")
                pieces.append(f"{scheme_and_host}://{host}{slash}{_escape(rest)}")
            else:
                pieces.append(_escape(part))
            continue
        group = ":" + "_".join(part.path) + ("(.*)" if part.reserved else "")
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if isinstance(following, str) and following and _NAME_CHARACTER.match(following[0]):
            group = "{" + group + "}"
        pieces.append(group)
    pattern = "".join(pieces)
    if pattern.startswith("/"):
        pattern = origin + pattern
    return pattern


def _escape(literal: str) -> str:
    return _PATTERN_SPECIAL.sub(r"\\\1", literal)
