"""IRIs of items (``/books/1``) and of their JSON-LD contexts (``/contexts/Book``), relative
to the application root, as API Platform."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from app.config.spec import ResourceSpec

_ID = re.compile(r"[1-9][0-9]{0,17}")


def context_iri(resource: ResourceSpec) -> str:
    """The JSON-LD context of a resource: ``/contexts/Book``."""
    return f"/contexts/{resource.name}"


def item_iri(resource: ResourceSpec, obj: object) -> str:
    """The IRI of ``obj``, an instance of ``resource``'s model: ``/books/1``."""
    return f"{resource.route}/{obj.id}"  # type: ignore[attr-defined]


def iri_for_id(resource: ResourceSpec, item_id: int) -> str:
    """The IRI of the item of ``resource`` whose primary key is ``item_id``."""
    return f"{resource.route}/{item_id}"


def parse_iri(resource: ResourceSpec, iri: str) -> int | None:
    """The id named by ``iri`` if it is an item IRI of ``resource``, else ``None``.

    Accepts the relative form (``/books/1``) and absolute URLs whose path is one
    (``http://host/books/1``); anything else (another resource, a query string, a
    non-numeric id) is ``None``.
    """
    parts = urlsplit(iri)
    if parts.query or parts.fragment:
        return None
    prefix = resource.route + "/"
    if not parts.path.startswith(prefix):
        return None
    tail = parts.path[len(prefix) :]
    return int(tail) if _ID.fullmatch(tail) else None
