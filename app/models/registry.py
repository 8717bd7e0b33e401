"""The models of one application, built from its :class:`ResourcesSpec`.

Every application gets its own :class:`~flask_sqlalchemy.SQLAlchemy` instance, hence its
own metadata and declarative registry: many applications with different specs can live in
one process (as tests do) without their tables or classes clashing.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy

from app.config.spec import ResourceSpec, ResourcesSpec
from app.models.columns import (
    NAMING_CONVENTION,
    check_names,
    cyclic_relations,
    field_column,
    relation_column,
    relation_fk_column,
)
from app.models.outbox import outbox_tables


class ModelRegistry:
    """One model class per resource of ``spec``, bound to the extension ``db``.

    A model has an integer primary key ``id``, one attribute per field (named as the
    field) and, per relation ``x``, the foreign-key attribute ``x_id`` (``relation_column``:
    ``favouriteBook`` -> ``favourite_book_id``) plus the relationship ``x`` (loaded lazily:
    serializers read the key and never join). The metadata also holds the publishing
    outbox tables (``outbox_table``, ``lease_table``).

    An id names one item forever: ids of deleted rows are never handed out again, on
    SQLite too (tables are created ``AUTOINCREMENT``; PostgreSQL sequences never go back).
    """

    def __init__(self, db: SQLAlchemy, spec: ResourcesSpec) -> None:
        self.db = db
        self.spec = spec
        self._models: dict[str, type[Any]] = {}
        self._resources: dict[type[Any], ResourceSpec] = {}
        self.outbox_table, self.lease_table = outbox_tables(db.metadata)
        cycles = cyclic_relations(spec.resources)
        for resource in spec.resources:
            model = _build_model(db, spec, resource, cycles)
            self._models[resource.name] = model
            self._resources[model] = resource

    @property
    def metadata(self) -> sa.MetaData:
        """The metadata holding every table of this registry (what migrations compare)."""
        return self.db.metadata

    def model(self, resource_name: str) -> type[Any]:
        """The model class of the resource called ``resource_name`` (``KeyError`` if none)."""
        return self._models[resource_name]

    def resource_for(self, model_or_instance: object) -> ResourceSpec:
        """The resource a model class, or an instance of one, was built from."""
        cls = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
        try:
            return self._resources[cls]
        except KeyError:
            raise KeyError(f"{cls.__name__} is not a model of this registry") from None


def new_extension() -> SQLAlchemy:
    """A fresh extension with its own metadata and the project's naming convention."""
    return SQLAlchemy(metadata=sa.MetaData(naming_convention=NAMING_CONVENTION))


def _build_model(
    db: SQLAlchemy,
    spec: ResourcesSpec,
    resource: ResourceSpec,
    cycles: frozenset[tuple[str, str]],
) -> type[Any]:
    check_names(resource)
    attributes: dict[str, Any] = {
        "__tablename__": resource.table,
        "__table_args__": {"sqlite_autoincrement": True},
        "__doc__": resource.description or f"The {resource.name} resource.",
        "id": sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    }
    for field in resource.fields:
        attributes[field.name] = field_column(field)
    for relation in resource.relations:
        target = spec.resource(relation.target)
        attributes[relation_column(relation)] = relation_fk_column(
            relation, target, use_alter=(resource.name, relation.name) in cycles
        )
        attributes[relation.name] = db.relationship(
            relation.target,
            foreign_keys=f"{resource.name}.{relation_column(relation)}",
            lazy="select",
            passive_deletes=True,
        )
    base: Any = db.Model
    metaclass: Any = type(base)
    model: type[Any] = metaclass(resource.name, (base,), attributes)
    return model
