"""Request bodies -> attribute values, with violations in API Platform's shape.

:func:`load_payload` validates a decoded JSON body against a resource's input schema.
``create`` and ``replace`` (PUT) need every required property and give every property
not sent its default (or null); ``patch`` (merge patch) takes only the keys sent.
JSON-LD keys (``@id``, ``@type``, ``@context``), ``id`` and read-only properties are
ignored, as API Platform does; any other unknown key is a violation naming it.
Relations come back as ``<name>_id`` integers whose rows are not yet checked to exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from marshmallow import ValidationError

from app.config.spec import ResourceSpec
from app.errors import ValidationFailed, Violation
from app.models import ModelRegistry
from app.models.columns import python_default
from app.schemas.factory import schemas_for

Mode = Literal["create", "replace", "patch"]


def load_payload(
    registry: ModelRegistry, resource: ResourceSpec, body: Mapping[str, Any], mode: Mode
) -> dict[str, Any]:
    """Validated attribute values for ``body``; raises :class:`ValidationFailed` (422)."""
    ignored = {"id"}
    ignored.update(f.name for f in resource.fields if f.read_only)
    ignored.update(r.name for r in resource.relations if r.read_only)
    data = {k: v for k, v in body.items() if not k.startswith("@") and k not in ignored}
    schema = schemas_for(registry).input(resource)
    try:
        values: dict[str, Any] = schema.load(data, partial=mode == "patch")
    except ValidationError as error:
        raise ValidationFailed(violations(error.messages, schema.fields)) from None
    if mode != "patch":
        for field in resource.fields:
            if not field.read_only and field.name not in values:
                default = python_default(field)
                values[field.name] = default() if default is not None else None
        for relation in resource.relations:
            key = f"{relation.name}_id"
            if not relation.read_only and key not in values:
                values[key] = None
    return values


def violations(messages: Any, known: Mapping[str, object] = {}) -> list[Violation]:
    """Flatten marshmallow's error messages into ``{propertyPath, message}`` pairs."""
    result: list[Violation] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                walk(child, path if key == "_schema" else f"{path}.{key}" if path else str(key))
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child, path)
        else:
            message = str(node)
            if message == "Unknown field." and path not in known:
                names = ", ".join(sorted(known)) or "none"
                message = f"Unknown property {path!r}; writable properties: {names}."
            result.append(Violation(path, message))

    walk(messages, "")
    return result
