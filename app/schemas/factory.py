"""Marshmallow schemas per resource, built once per registry and reused.

A resource has one *input* schema (writable fields and relations; ``required`` honoured
on create and PUT, ignored on PATCH through ``partial``) and one *output* schema per
group selection (readable fields, plus ``id``). Schema instances are stateless between
calls and safe to share between greenlets.
"""

from __future__ import annotations

import weakref
from typing import Any

from marshmallow import RAISE, Schema, fields

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec
from app.models import ModelRegistry
from app.schemas.dumper import Dumper
from app.schemas.fields import relation_field, scalar_field


def effectively_required(spec: FieldSpec | RelationSpec) -> bool:
    """Required on create/PUT: declared required, or non-null without a default."""
    if spec.required:
        return True
    has_default = isinstance(spec, FieldSpec) and spec.has_default
    return not spec.nullable and not has_default


def _in_groups(spec: FieldSpec | RelationSpec, groups: tuple[str, ...]) -> bool:
    return not groups or bool(set(spec.groups) & set(groups))


class SchemaSet:
    """The schemas of one registry, built lazily and cached by resource and groups."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._inputs: dict[str, Schema] = {}
        self._outputs: dict[tuple[str, tuple[str, ...]], Schema] = {}
        self._dumpers: dict[str, Dumper] = {}

    def input(self, resource: ResourceSpec) -> Schema:
        schema = self._inputs.get(resource.name)
        if schema is None:
            schema = self._inputs[resource.name] = self._build_input(resource)
        return schema

    def output(self, resource: ResourceSpec, groups: tuple[str, ...] = ()) -> Schema:
        key = (resource.name, groups)
        schema = self._outputs.get(key)
        if schema is None:
            schema = self._outputs[key] = self._build_output(resource, groups)
        return schema

    def dumper(self, resource: ResourceSpec) -> Dumper:
        """The compiled form of ``output(resource)`` (see :mod:`app.schemas.dumper`)."""
        dumper = self._dumpers.get(resource.name)
        if dumper is None:
            model = self._registry.model(resource.name)
            dumper = self._dumpers[resource.name] = Dumper(self.output(resource), model, resource)
        return dumper

    def _target(self, relation: RelationSpec) -> ResourceSpec:
        return self._registry.spec.resource(relation.target)

    def _build_input(self, resource: ResourceSpec) -> Schema:
        declared: dict[str, fields.Field] = {}  # type: ignore[type-arg]
        for field in resource.fields:
            if not field.read_only:
                declared[field.name] = scalar_field(field, required=effectively_required(field))
        for relation in resource.relations:
            if not relation.read_only:
                declared[relation.name] = relation_field(
                    relation, self._target(relation), required=effectively_required(relation)
                )
        schema_class = Schema.from_dict(declared, name=f"{resource.name}Input")
        return schema_class(unknown=RAISE)

    def _build_output(self, resource: ResourceSpec, groups: tuple[str, ...]) -> Schema:
        declared: dict[str, Any] = {"id": fields.Integer()}
        for field in resource.fields:
            if not field.write_only and _in_groups(field, groups):
                declared[field.name] = scalar_field(field, required=False)
        for relation in resource.relations:
            if not relation.write_only and _in_groups(relation, groups):
                declared[relation.name] = relation_field(
                    relation, self._target(relation), required=False
                )
        schema_class = Schema.from_dict(declared, name=f"{resource.name}Output")
        return schema_class()


_SETS: weakref.WeakKeyDictionary[ModelRegistry, SchemaSet] = weakref.WeakKeyDictionary()


def schemas_for(registry: ModelRegistry) -> SchemaSet:
    """The (cached) schema set of ``registry``."""
    found = _SETS.get(registry)
    if found is None:
        found = _SETS[registry] = SchemaSet(registry)
    return found
