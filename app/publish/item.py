"""How the publisher sees a stored item: its IRI and its JSON-LD representation, encoded.

:class:`ItemRenderer` is the small interface the update factory needs;
:class:`RegistryItemRenderer` implements it with the REST layer's own IRIs and serializer,
so a published update carries exactly what ``GET /books/1`` answers.
"""

from __future__ import annotations

from typing import Protocol

from app.config.spec import ResourceSpec
from app.models import ModelRegistry, item_iri
from app.models.row import RowItem, row_of
from app.publish.payload import item_data
from app.schemas import schemas_for, serialize_item


class ItemRenderer(Protocol):
    """IRIs and representations of items; called inside the flush, may lazy-load."""

    def iri(self, resource: ResourceSpec, obj: object) -> str:
        """The item's relative IRI (``/books/1``)."""

    def data(self, resource: ResourceSpec, obj: object, groups: tuple[str, ...]) -> str:
        """The JSON-LD item (``@context``, ``@id``, ``@type``, fields in ``groups``) as an
        update's ``data`` (:func:`app.publish.payload.item_data`)."""


class RegistryItemRenderer:
    """:class:`ItemRenderer` over the gateway's model registry and schemas."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def iri(self, resource: ResourceSpec, obj: object) -> str:
        return item_iri(resource, obj)

    def data(self, resource: ResourceSpec, obj: object, groups: tuple[str, ...]) -> str:
        dumper = schemas_for(self._registry).dumper(resource)
        if not groups and isinstance(obj, RowItem):  # as the write answers it
            return dumper.encode_item(row_of(obj)).decode()
        document = serialize_item(self._registry, resource, obj, groups=groups, jsonld=True)
        # A narrower group holds a subset of the values of the full document.
        return item_data(document, plain=dumper.plain_json)
