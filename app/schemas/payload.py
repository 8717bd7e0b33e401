"""Request bodies -> attribute values, with violations in API Platform's shape.

:func:`load_payload` validates a decoded JSON body against a resource's input schema.
``create`` and ``replace`` (PUT) need every required property and give every property
not sent its default (or null); ``patch`` (merge patch) takes only the keys sent.
JSON-LD keys (``@id``, ``@type``, ``@context``), ``id`` and read-only properties are
always ignored, as API Platform does. Any other key the resource does not write is
ignored too, unless the resource is strict (``allow_extra_attributes: false``): then it is
a violation naming it. Either way the work and the answer are bounded whatever the
number of unknown keys: ignored ones are dropped in one pass, and a strict 422 names at
most :data:`MAX_UNKNOWN_REPORTED` of them.
Relations come back as ``<name>_id`` integers whose rows are not yet checked to exist.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from marshmallow import Schema, ValidationError

from app.config.spec import ResourceSpec
from app.errors import ValidationFailed, Violation
from app.models import ModelRegistry
from app.models.columns import python_default, relation_column
from app.schemas.factory import schemas_for

Mode = Literal["create", "replace", "patch"]


def load_payload(
    registry: ModelRegistry, resource: ResourceSpec, body: Mapping[str, Any], mode: Mode
) -> dict[str, Any]:
    """Validated attribute values for ``body``; raises :class:`ValidationFailed` (422)."""
    schema = schemas_for(registry).input(resource)
    plan = _plan(schema, resource)
    known = schema.fields
    if resource.strict_bodies:
        data = {k: v for k, v in body.items() if not k.startswith("@") and k not in plan.ignored}
        unknown = [key for key in data if key not in known]
        if unknown:  # refused before validation: the answer's size does not grow with the body
            raise ValidationFailed(unknown_properties(unknown, known))
    else:
        data = {k: v for k, v in body.items() if k in known}
    try:
        values: dict[str, Any] = schema.load(data, partial=mode == "patch")
    except ValidationError as error:
        raise ValidationFailed(violations(error.messages, schema.fields)) from None
    if mode != "patch":
        for name, default in plan.defaults:
            if name not in values:
                values[name] = default() if default is not None else None
        for key in plan.relation_keys:
            if key not in values:
                values[key] = None
    return values


@dataclass(frozen=True)
class _Plan:
    """What :func:`load_payload` needs of a resource besides its schema, made once."""

    ignored: frozenset[str]
    """Body keys dropped: ``id`` and the read-only fields and relations."""
    defaults: tuple[tuple[str, Callable[[], object] | None], ...]
    """Each writable field with its default's factory (``None``: null)."""
    relation_keys: tuple[str, ...]
    """The ``<name>_id`` attribute of each writable relation."""


_PLANS: weakref.WeakKeyDictionary[Schema, _Plan] = weakref.WeakKeyDictionary()


def _plan(schema: Schema, resource: ResourceSpec) -> _Plan:
    """The plan of ``resource``, cached with its (per registry, cached) input schema."""
    plan = _PLANS.get(schema)
    if plan is None:
        plan = _PLANS[schema] = _Plan(
            ignored=frozenset(
                {
                    "id",
                    *(f.name for f in resource.fields if f.read_only),
                    *(r.name for r in resource.relations if r.read_only),
                }
            ),
            defaults=tuple((f.name, python_default(f)) for f in resource.fields if not f.read_only),
            relation_keys=tuple(relation_column(r) for r in resource.relations if not r.read_only),
        )
    return plan


MAX_UNKNOWN_REPORTED = 20
"""Unknown properties named in one 422; the others are counted."""


def unknown_properties(unknown: list[str], known: Mapping[str, object]) -> list[Violation]:
    """One violation per unknown property (at most :data:`MAX_UNKNOWN_REPORTED`, then one
    that counts the rest), each naming the writable properties."""
    names = ", ".join(sorted(known)) or "none"
    found = [
        Violation(key, f"Unknown property {key!r}; writable properties: {names}.")
        for key in unknown[:MAX_UNKNOWN_REPORTED]
    ]
    if len(unknown) > MAX_UNKNOWN_REPORTED:
        rest = len(unknown) - MAX_UNKNOWN_REPORTED
        found.append(Violation("", f"{rest} more unknown properties are not listed."))
    return found


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
