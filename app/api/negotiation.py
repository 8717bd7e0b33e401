"""Content negotiation: which representation to answer, which bodies to accept.

Representations: JSON-LD (``application/ld+json``, the default, also for ``*/*`` and a
missing ``Accept``) and plain JSON (``application/json``: collections are bare lists,
items carry no ``@`` keys). Anything else is 406. Request bodies must be JSON
(``application/ld+json`` or ``application/json``) for POST and PUT and
``application/merge-patch+json`` for PATCH, else 415; malformed JSON is 400. A body
larger than ``MAX_BODY_SIZE`` (:attr:`app.settings.Settings.max_body_size`) is 413: refused
on its ``Content-Length`` before any of it is read, or, sent in chunks, as soon as one
byte more than the limit has arrived; at most the limit plus one read chunk is ever held.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from flask import Request, Response, current_app
from werkzeug.datastructures import Headers, MIMEAccept
from werkzeug.http import parse_accept_header

from app.errors import (
    ACCEPT_NEGOTIATED,
    BadRequest,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from app.schemas.encoder import encode_document
from app.settings import DEFAULT_MAX_BODY_SIZE

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

JSONLD = "application/ld+json"
JSON = "application/json"
JSONLD_UTF8 = f"{JSONLD}; charset=utf-8"
JSON_UTF8 = f"{JSON}; charset=utf-8"
MERGE_PATCH = "application/merge-patch+json"
HTML = "text/html"

Format = Literal["jsonld", "json"]

_OFFERED = (JSONLD, JSON)
_BODY_TYPES = (JSONLD, JSON)
EXTENSION_KEY = "gateway_api"
"""``app.extensions`` key of the REST API's :class:`ApiState`."""
_FORMAT_KEY = "app.api.response_format"
"""WSGI environ key under which a request's negotiated format is kept."""
_ESCAPED_SURROGATES = (b"\\ud", b"\\uD")
_READ_CHUNK = 64 << 10
"""Bytes asked of the request stream per read while a body is read."""


def response_format(request: Request) -> Format:
    """The representation the client asked for; raises :class:`NotAcceptable`.

    Negotiated once per request (kept in the request's WSGI environ), however many parts
    of the request's handling ask for it.
    """
    environ = request.environ
    fmt: Format | None = environ.get(_FORMAT_KEY)
    if fmt is None:
        environ[ACCEPT_NEGOTIATED] = True  # an error answer varies with Accept too
        fmt = environ[_FORMAT_KEY] = _negotiate(request)
    return fmt


def _negotiate(request: Request) -> Format:
    accept = request.environ.get("HTTP_ACCEPT", "")  # what request.headers.get("Accept") reads
    fmt = _format_for(accept)
    if fmt is None:
        raise NotAcceptable(
            f"Cannot answer {accept!r}: send Accept: {JSONLD} (JSON-LD) or {JSON} (plain JSON)."
        )
    return fmt


@lru_cache(maxsize=256)
def _format_for(accept: str) -> Format | None:
    """The format an ``Accept`` header value selects (``None``: nothing acceptable).

    Clients send the same few header values over and over, so parsing is cached; the
    cache is bounded because the value comes from the client.
    """
    mimetypes = parse_accept_header(accept, MIMEAccept)
    if not mimetypes:
        return "jsonld"
    best = mimetypes.best_match(_OFFERED)
    if best is None:
        return None
    return "jsonld" if best == JSONLD else "json"


def prefers_html(request: Request) -> bool:
    """True when the client ranks ``text/html`` above every JSON representation."""
    return request.accept_mimetypes.best_match((*_OFFERED, HTML)) == HTML


def json_body(request: Request, *, patch: bool = False) -> dict[str, Any]:
    """The request's JSON object; 415 for a wrong ``Content-Type``, 400 for bad JSON."""
    accepted = (MERGE_PATCH,) if patch else _BODY_TYPES
    if request.mimetype not in accepted:
        sent = request.headers.get("Content-Type") or "none"
        raise UnsupportedMediaType(
            f"The content type {sent!r} is not supported here; "
            f"send Content-Type: {' or '.join(accepted)}."
        )
    raw = read_body(request, body_limit())
    try:
        # What ``json.loads(raw)`` does, with one decoder made at import.
        encoding = json.detect_encoding(raw)
        body = _DECODER.decode(raw.decode(encoding, "surrogatepass"))
        # Lone surrogates (``"\ud800"``) parse but cannot be stored or written as UTF-8.
        if not _surrogate_free(raw, encoding):
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError) as error:
        raise BadRequest(f"The request body is not valid JSON: {error}.") from None
    except RecursionError:
        raise BadRequest("The request body is nested too deeply.") from None
    if not isinstance(body, dict):
        raise BadRequest(f"The request body must be a JSON object, not {_json_type(body)}.")
    return body


@dataclass(frozen=True)
class ApiState:
    """What :func:`app.api.init_app` was given that requests need later."""

    max_body_size: int = DEFAULT_MAX_BODY_SIZE


def body_limit() -> int:
    """The current app's ``MAX_BODY_SIZE``, as given to :func:`app.api.init_app`."""
    state = current_app.extensions.get(EXTENSION_KEY)
    return state.max_body_size if isinstance(state, ApiState) else DEFAULT_MAX_BODY_SIZE


def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes; :class:`PayloadTooLarge` past it.

    A ``Content-Length`` over the limit is refused before reading; a body without one
    (chunked) is read until its end or until it passes the limit.
    """
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(limit, f"of {length} bytes ")
    stream = request.stream
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(min(_READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit, "")
    return b"".join(chunks)


def _too_large(limit: int, announced: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body {announced}is larger than the limit of {limit} bytes set by "
        "MAX_BODY_SIZE."
    )


def _json_type(value: object) -> str:
    """The JSON name of a decoded value's type: ``null``, ``array``, ``string``, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


def _surrogate_free(raw: bytes, encoding: str) -> bool:
    """Whether ``raw``, a JSON body in ``encoding``, certainly decodes to no surrogate.

    ``json.loads`` decodes bytes with ``surrogatepass``, so a surrogate arrives either
    escaped (``\\ud800``) or UTF-8-encoded (lead byte ``0xED``), or in a UTF-16/32 body.
    A UTF-8 body with neither needs no second, checking encode.
    """
    if encoding != "utf-8" or b"\xed" in raw:
        return False
    return not any(escape in raw for escape in _ESCAPED_SURROGATES)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


class DocumentResponse(Response):
    """A JSON document the gateway wrote: a byte body whose ``Content-Length`` is set, a
    success status with a body, and header values that are ASCII (its IRIs, in
    ``Location`` and ``Content-Location``, are URIs already).

    Werkzeug's last pass over the headers before they are sent (a copy of them all, IRIs
    made URIs, entity headers dropped from a 304, a length found for the body) would
    change nothing in such a response, so it is skipped; any other status (an
    ``after_request`` hook may set one) or a non-ASCII ``Location`` gets that pass."""

    ascii_locations = True
    """Whether ``Location`` and ``Content-Location``, if set, were ASCII when given."""

    def get_wsgi_headers(self, environ: WSGIEnvironment) -> Headers:
        if self.status_code in _DOCUMENT_STATUSES and self.ascii_locations:
            return self.headers
        return super().get_wsgi_headers(environ)


_DOCUMENT_STATUSES = frozenset({200, 201})


def document_response(
    document: Any,
    fmt: Format,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    plain: bool = False,
) -> Response:
    """Serialize ``document`` as JSON-LD or JSON with ``Vary: Accept`` (``plain``: see
    :func:`encode_document`)."""
    return encoded_response(encode_document(document, plain=plain), fmt, status, headers)


def encoded_response(
    body: bytes, fmt: Format, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """:func:`document_response` of a document already encoded as ``body``."""
    content_type = JSONLD_UTF8 if fmt == "jsonld" else JSON_UTF8
    fields = [("Content-Type", content_type), ("Vary", "Accept")]
    ascii_locations = True
    if headers:
        fields += headers.items()
        ascii_locations = all(headers.get(name, "").isascii() for name in _LOCATIONS)
    response = DocumentResponse(body, status=status, headers=fields)
    if not ascii_locations:
        response.ascii_locations = False
    return response


_LOCATIONS = ("Location", "Content-Location")
