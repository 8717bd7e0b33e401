"""Models + spec -> marshmallow schemas, JSON-LD serialization and payload loading."""

from __future__ import annotations

from app.schemas.dumper import Dumper
from app.schemas.factory import SchemaSet, effectively_required, schemas_for
from app.schemas.payload import Mode, load_payload, violations
from app.schemas.serializer import serialize_item, serialize_members

__all__ = [
    "Dumper",
    "Mode",
    "SchemaSet",
    "effectively_required",
    "load_payload",
    "schemas_for",
    "serialize_item",
    "serialize_members",
    "violations",
]
