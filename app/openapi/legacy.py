"""Downgrade of the 3.1 document to OpenAPI 3.0, as ``/docs.json?spec_version=3.0.0``.

The packaged Swagger UI (the ``swagger-ui-bundle`` distribution, Swagger UI 4) renders
only 3.0 documents, so the ``/docs`` page loads this form; API Platform answers the same
query parameter the same way. Differences handled: ``type: [T, "null"]`` becomes
``type: T`` + ``nullable: true`` (several non-null types become ``anyOf``), ``examples``
becomes ``example`` (its first entry), ``null`` leaves ``enum`` lists, a numeric
``exclusiveMinimum``/``exclusiveMaximum`` becomes the bound plus ``true``.
``patternProperties`` does not exist in 3.0: it is left out, and so is the
``additionalProperties: false`` beside it (3.0 cannot say "these properties and any key
matching a pattern", so it says nothing). The input is never mutated.
"""

from __future__ import annotations

import copy
from typing import Any

LEGACY_VERSION = "3.0.3"

_BRANCHES = ("properties",)
_LISTS = ("allOf", "oneOf", "anyOf")
_NESTED = ("items", "additionalProperties", "not")


def downgrade(document: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of the 3.1 ``document`` expressed in OpenAPI 3.0."""
    result = copy.deepcopy(document)
    result["openapi"] = LEGACY_VERSION
    components = result.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        components["schemas"][name] = downgrade_schema(schema)
    for response in components.get("responses", {}).values():
        _downgrade_content(response)
        for header in response.get("headers", {}).values():
            _downgrade_parameter(header)
    for path_item in result.get("paths", {}).values():
        for parameter in path_item.get("parameters", []):
            _downgrade_parameter(parameter)
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                _downgrade_parameter(parameter)
            if "requestBody" in operation:
                _downgrade_content(operation["requestBody"])
            for response in operation.get("responses", {}).values():
                _downgrade_content(response)
                for header in response.get("headers", {}).values():
                    _downgrade_parameter(header)
    return result


def downgrade_schema(schema: Any) -> Any:
    """One schema (and its subschemas) in the 3.0 dialect."""
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if isinstance(kind, list):
        non_null = [t for t in kind if t != "null"]
        del schema["type"]
        if len(non_null) == 1:
            schema["type"] = non_null[0]
        elif non_null:
            schema["anyOf"] = [{"type": t} for t in non_null]
        if "null" in kind:
            schema["nullable"] = True
            if "enum" in schema:
                schema["enum"] = [v for v in schema["enum"] if v is not None]
    if "patternProperties" in schema:
        del schema["patternProperties"]
        if schema.get("additionalProperties") is False:
            del schema["additionalProperties"]
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = schema.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            schema[bound] = value
            schema[exclusive] = True
    if "examples" in schema:
        examples = schema.pop("examples")
        if isinstance(examples, list) and examples:
            schema["example"] = examples[0]
    for key in _BRANCHES:
        if isinstance(schema.get(key), dict):
            schema[key] = {name: downgrade_schema(s) for name, s in schema[key].items()}
    for key in _LISTS:
        if isinstance(schema.get(key), list):
            schema[key] = [downgrade_schema(s) for s in schema[key]]
    for key in _NESTED:
        if isinstance(schema.get(key), dict):
            schema[key] = downgrade_schema(schema[key])
    return schema


def _downgrade_parameter(parameter: dict[str, Any]) -> None:
    if "schema" in parameter:
        parameter["schema"] = downgrade_schema(parameter["schema"])


def _downgrade_content(holder: dict[str, Any]) -> None:
    for media in holder.get("content", {}).values():
        if "schema" in media:
            media["schema"] = downgrade_schema(media["schema"])
