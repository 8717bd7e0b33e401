"""Page arithmetic and Hydra ``PartialCollectionView`` links (pure, no IO).

``page`` counts from 1; ``itemsPerPage`` (when the resource lets clients choose) is
capped at ``maximum_items_per_page``. Both must be positive integers, else 400. A page
past the last one is an empty page, not an error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.datastructures import MultiDict

from app.config.spec import PaginationSpec
from app.errors import BadRequest

MAX_PARAMETER = 2**31 - 1
"""Largest ``page`` or ``itemsPerPage`` accepted (keeps offsets within 64 bits)."""


@dataclass(frozen=True)
class Page:
    """One requested page: ``number`` from 1 and ``size`` items."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def _positive(args: MultiDict[str, str], name: str) -> int | None:
    raw = args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PARAMETER:
        raise BadRequest(
            f"{name}={raw!r} is not valid; {name} must be an integer from 1 to {MAX_PARAMETER}."
        )
    return int(text)


def requested_page(spec: PaginationSpec, args: MultiDict[str, str]) -> Page | None:
    """The page to answer, or ``None`` when pagination is disabled for the resource."""
    if not spec.enabled:
        return None
    number = _positive(args, "page")
    size = spec.items_per_page
    if spec.client_items_per_page:
        asked = _positive(args, "itemsPerPage")
        if asked is not None:
            size = min(asked, spec.maximum_items_per_page)
    return Page(number or 1, size)


def last_page(page: Page, total: int) -> int:
    return max(1, math.ceil(total / page.size))


def view(path: str, args: MultiDict[str, str], page: Page, total: int) -> dict[str, Any] | None:
    """The ``view`` object, as API Platform's ``PartialCollectionViewNormalizer`` builds it.

    Present when the collection spans several pages or the request carries any query
    parameter besides ``page`` (filters, order, ``itemsPerPage``); ``None`` otherwise.
    Over several pages: ``@id`` names the current page, ``first`` and ``last`` are always
    there, ``previous`` and ``next`` only when such a page exists. On a single page: only
    ``@id`` (the request without ``page``) and ``@type``. Every link keeps the other
    query parameters.
    """
    last = last_page(page, total)
    kept = urlencode([(k, v) for k, v in args.items(multi=True) if k != "page"])
    if last == 1:
        if not kept:
            return None
        return {"@id": f"{path}?{kept}", "@type": "PartialCollectionView"}
    prefix = f"{path}?{kept}&page=" if kept else f"{path}?page="

    def link(number: int) -> str:
        return f"{prefix}{number}"

    document: dict[str, Any] = {
        "@id": link(page.number),
        "@type": "PartialCollectionView",
        "first": link(1),
        "last": link(last),
    }
    if page.number > 1:
        document["previous"] = link(page.number - 1)
    if page.number < last:
        document["next"] = link(page.number + 1)
    return document
