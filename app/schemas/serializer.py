"""Models -> JSON-LD (or plain JSON) documents, in API Platform's shapes.

Needs no request context: the publishing bridge calls :func:`serialize_item` after a
commit to build Mercure update payloads. IRIs are relative (``/books/1``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.config.spec import ResourceSpec
from app.models import ModelRegistry, context_iri, item_iri
from app.schemas.factory import schemas_for

JSONLD_KEYS = frozenset({"@context", "@id", "@type"})
"""The keys :func:`serialize_item` adds for JSON-LD (left out of plain JSON)."""


def serialize_item(
    registry: ModelRegistry,
    resource: ResourceSpec,
    obj: object,
    *,
    groups: tuple[str, ...] = (),
    jsonld: bool = True,
) -> dict[str, Any]:
    """The item document: ``{"@context", "@id", "@type", "id", fields..., relations...}``.

    Write-only fields are never included; with ``groups``, only the fields and relations
    whose groups intersect them (``id`` and the ``@`` keys always). Relations are IRIs.
    With ``jsonld=False`` the ``@`` keys are left out.
    """
    schemas = schemas_for(registry)
    # The compiled form of the output schema when no group narrows it (same document).
    data: dict[str, Any] = (
        schemas.output(resource, groups).dump(obj) if groups else schemas.dumper(resource).dump(obj)
    )
    if not jsonld:
        return data
    return {
        "@context": context_iri(resource),
        "@id": item_iri(resource, obj),
        "@type": resource.name,
        **data,
    }


def serialize_members(
    registry: ModelRegistry,
    resource: ResourceSpec,
    objects: Iterable[object],
    *,
    jsonld: bool = True,
) -> list[dict[str, Any]]:
    """Collection members: as :func:`serialize_item` but without ``@context``."""
    dump = schemas_for(registry).dumper(resource).dump
    dumped = [dump(obj) for obj in objects]
    if not jsonld:
        return dumped
    route, name = resource.route, resource.name
    return [{"@id": f"{route}/{row['id']}", "@type": name, **row} for row in dumped]
