"""Update data and absolute IRIs, as API Platform publishes them. Pure except :func:`origin`.

- create/update: the JSON-LD item, compact JSON, UTF-8 characters kept as they are;
- delete: ``{"@id": "/books/1"}``, plus ``"@type"`` when the resource sets ``include_type``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache

from flask import has_request_context, request
from werkzeug.sansio.utils import get_current_url

from app.schemas.encoder import encode_document

DEFAULT_ORIGIN = "http://localhost"
ORIGIN_CACHE_SIZE = 256
"""Distinct (scheme, host) pairs whose origin string is kept (the host comes from clients)."""


def origin(public_url: str | None) -> str:
    """The public origin for absolute IRIs: ``PUBLIC_URL``, else the current request's
    host URL, else :data:`DEFAULT_ORIGIN` (changes made outside a request).

    The request's host is validated as ``request.host_url`` does (trusted hosts); the URL
    built from it is cached per (scheme, host)."""
    if public_url:
        return public_url.rstrip("/")
    if has_request_context():
        return _host_origin(request.scheme, request.host)
    return DEFAULT_ORIGIN


@lru_cache(maxsize=ORIGIN_CACHE_SIZE)
def _host_origin(scheme: str, host: str) -> str:
    # ``get_current_url(scheme, host)`` is what ``Request.host_url`` returns.
    return get_current_url(scheme, host).rstrip("/")


def absolute(base: str, iri: str) -> str:
    """``absolute("http://host", "/books/1") == "http://host/books/1"``."""
    if "://" in iri:
        return iri
    return base.rstrip("/") + "/" + iri.lstrip("/")


def item_data(item: Mapping[str, object], *, plain: bool = False) -> str:
    """Encode a serialized item as the update's ``data`` (``plain``: see
    :func:`~app.schemas.encoder.encode_document`; the same text either way)."""
    return encode_document(item, plain=plain, default=str).decode()


def deleted_data(iri: str, type_name: str | None) -> str:
    """``data`` of a delete update: the relative IRI, and ``@type`` when asked for."""
    body: dict[str, str] = {"@id": iri}
    if type_name is not None:
        body["@type"] = type_name
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
