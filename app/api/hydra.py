"""The Hydra API documentation (``/docs.jsonld``) of a spec, in API Platform 4's shape.

Pure and deterministic: the same spec and ``@vocab`` always give the same document. As
API Platform 4 with ``hydra_prefix: false``, keys carry no ``hydra:`` prefix and resolve
through the Hydra context listed first in ``@context`` (inline, as API Platform 4 embeds
it: reading the document needs no network); the second context adds the prefixes and
``domain``/``range``/``subClassOf`` as IRI-valued terms.

IRIs, and what they resolve to (invariants the JSON-LD contexts rely on):

- classes are fragments of this document (``#Book``), properties ``#Book/title``: the same
  IRIs that ``/contexts/Book`` gives the item's keys through its ``@vocab``
  (``<root>/docs.jsonld#``), so every key of an item is a documented property; a field
  with an ``iri`` (``https://schema.org/name``) is that property, in both documents;
- ``returns``/``expects`` are typed ``@vocab`` by the Hydra context, so they name classes
  by term (``Book``, ``Collection``) or compact IRI (``owl:Nothing``);
- ``domain``/``range``/``subClassOf`` are typed ``@id``: fragments or compact IRIs.

Each resource class lists its item operations; ``GET`` on the collection and ``POST`` are
listed on the resource's property of the ``Entrypoint`` class, where API Platform (and
api-doc-parser, which reads them there) puts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.api.documents import HYDRA, entrypoint_key, hydra_context
from app.api.negotiation import MERGE_PATCH
from app.config.spec import (
    FieldSpec,
    FieldType,
    Operation,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)
from app.schemas import effectively_required

DOCS_PATH = "/docs.jsonld"
API_DOCUMENTATION_REL = f"{HYDRA}apiDocumentation"
"""``rel`` of the ``Link`` header through which clients discover the documentation."""
DEFAULT_TITLE = "API"

NAMESPACES: Mapping[str, str] = {
    "hydra": HYDRA,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xmls": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "schema": "https://schema.org/",
}

RANGES: Mapping[FieldType, str | None] = {
    "string": "xmls:string",
    "text": "xmls:string",
    "enum": "xmls:string",
    "uuid": "xmls:string",
    "integer": "xmls:integer",
    "float": "xmls:decimal",  # API Platform's range for PHP floats
    "decimal": "xmls:decimal",
    "boolean": "xmls:boolean",
    "date": "xmls:date",
    "datetime": "xmls:dateTime",
    "json": None,  # any JSON value: no range, as API Platform for arrays and mixed
}
"""The ``range`` of a field of each type (``None``: the property has no ``range``)."""

# operation -> (method, @type, description, returns, expects the resource); ``{}`` in the
# description and in ``returns`` stands for the resource's name.
OPERATIONS: Mapping[Operation, tuple[str, str | tuple[str, ...], str, str, bool]] = {
    "get_collection": (
        "GET",
        ("Operation", "schema:FindAction"),
        "Retrieves the collection of {} resources.",
        "Collection",
        False,
    ),
    "post": ("POST", ("Operation", "schema:CreateAction"), "Creates a {} resource.", "{}", True),
    "get": ("GET", ("Operation", "schema:FindAction"), "Retrieves a {} resource.", "{}", False),
    "put": ("PUT", ("Operation", "schema:ReplaceAction"), "Replaces the {} resource.", "{}", True),
    "patch": ("PATCH", "Operation", "Updates the {} resource.", "{}", True),
    "delete": (
        "DELETE",
        ("Operation", "schema:DeleteAction"),
        "Deletes the {} resource.",
        "owl:Nothing",
        False,
    ),
}
COLLECTION_OPERATIONS: tuple[Operation, ...] = ("get_collection", "post")


def documentation(spec: ResourcesSpec, vocab: str) -> dict[str, Any]:
    """The ``ApiDocumentation`` of ``spec``; ``vocab`` is ``<absolute root>docs.jsonld#``."""
    document: dict[str, Any] = {
        "@context": [hydra_context(), context_terms(vocab)],
        "@id": DOCS_PATH,
        "@type": "ApiDocumentation",
        "title": spec.api.title or DEFAULT_TITLE,
    }
    if spec.api.description:
        document["description"] = spec.api.description
    document["entrypoint"] = "/"
    document["supportedClass"] = [
        *(resource_class(resource) for resource in spec.resources),
        entrypoint_class(spec),
        *error_classes(),
    ]
    return document


def context_terms(vocab: str) -> dict[str, Any]:
    """The documentation's own context, after the Hydra context."""
    return {
        "@vocab": vocab,
        **NAMESPACES,
        "domain": {"@id": "rdfs:domain", "@type": "@id"},
        "range": {"@id": "rdfs:range", "@type": "@id"},
        "subClassOf": {"@id": "rdfs:subClassOf", "@type": "@id"},
    }


def resource_class(resource: ResourceSpec) -> dict[str, Any]:
    """The ``Class`` of a resource: its fields and relations, then its item operations."""
    name = resource.name
    cls: dict[str, Any] = {"@id": f"#{name}", "@type": "Class", "title": name}
    if resource.description:
        cls["description"] = resource.description
    cls["supportedProperty"] = [
        *(supported_property(resource, field) for field in resource.fields),
        *(supported_property(resource, relation) for relation in resource.relations),
    ]
    cls["supportedOperation"] = [
        operation(name, op)
        for op in OPERATIONS
        if op in resource.operations and op not in COLLECTION_OPERATIONS
    ]
    return cls


def supported_property(resource: ResourceSpec, spec: FieldSpec | RelationSpec) -> dict[str, Any]:
    """A field (``rdf:Property`` with an ``xmls:`` range) or a relation (``Link``)."""
    name = resource.name
    relation = isinstance(spec, RelationSpec)
    prop: dict[str, Any] = {
        "@id": spec.iri or f"#{name}/{spec.name}",
        "@type": "Link" if relation else "rdf:Property",
        "domain": f"#{name}",
        "label": spec.name,
    }
    if isinstance(spec, RelationSpec):
        prop["owl:maxCardinality"] = 1
        prop["range"] = f"#{spec.target}"
    elif (range_ := RANGES[spec.type]) is not None:
        prop["range"] = range_
    supported: dict[str, Any] = {
        "@type": "SupportedProperty",
        "property": prop,
        "title": spec.name,
        "required": effectively_required(spec) and not spec.read_only,
        "readable": not spec.write_only,
        "writeable": not spec.read_only,
    }
    if spec.description:
        supported["description"] = spec.description
    return supported


def operation(name: str, op: Operation) -> dict[str, Any]:
    """The Hydra ``Operation`` ``op`` of resource ``name``, keys sorted as API Platform."""
    method, types, description, returns, expects = OPERATIONS[op]
    suffix = "Collection" if op == "get_collection" else ""
    result: dict[str, Any] = {
        "@type": types if isinstance(types, str) else list(types),
        "description": description.format(name),
        "method": method,
        "returns": returns.format(name),
        "title": f"{method.lower()}{name}{suffix}",
    }
    if expects:
        result["expects"] = name
    if op == "patch":
        result["expectsHeader"] = [{"headerName": "Content-Type", "possibleValue": [MERGE_PATCH]}]
    return dict(sorted(result.items()))


def entrypoint_class(spec: ResourcesSpec) -> dict[str, Any]:
    """The ``Entrypoint``: one ``Link`` per resource with collection operations."""
    properties = []
    for resource in spec.resources:
        operations = [op for op in COLLECTION_OPERATIONS if op in resource.operations]
        if not operations:
            continue
        name = resource.name
        key = entrypoint_key(resource)
        member = {
            "owl:onProperty": {"@id": "hydra:member"},
            "owl:allValuesFrom": {"@id": f"#{name}"},
        }
        prop = {
            "@id": f"#Entrypoint/{key}",
            "@type": "Link",
            "domain": "#Entrypoint",
            "owl:maxCardinality": 1,
            "range": [{"@id": "hydra:Collection"}, {"owl:equivalentClass": member}],
            "supportedOperation": [operation(name, op) for op in operations],
        }
        properties.append(
            {
                "@type": "SupportedProperty",
                "property": prop,
                "title": f"get{name}Collection",
                "description": f"The collection of {name} resources",
                "readable": True,
                "writeable": False,
            }
        )
    return {
        "@id": "#Entrypoint",
        "@type": "Class",
        "title": "Entrypoint",
        "supportedProperty": properties,
        "supportedOperation": {
            "@type": "Operation",
            "method": "GET",
            "title": "index",
            "description": "The API Entrypoint.",
            "returns": "Entrypoint",
        },
    }


def error_classes() -> list[dict[str, Any]]:
    """The classes of the 422 body, as API Platform 4 documents them."""
    violation = "ConstraintViolation"
    listing = "ConstraintViolationList"
    return [
        {
            "@id": f"#{violation}",
            "@type": "Class",
            "title": "A constraint violation",
            "supportedProperty": [
                _static_property(violation, "propertyPath", "The property path of the violation"),
                _static_property(violation, "message", "The message associated with the violation"),
            ],
        },
        {
            "@id": f"#{listing}",
            "@type": "Class",
            "subClassOf": "hydra:Error",
            "title": "A constraint violation list",
            "supportedProperty": [
                _static_property(listing, "violations", "The violations", f"#{violation}"),
            ],
        },
    ]


def _static_property(
    cls: str, name: str, description: str, range_: str = "xmls:string"
) -> dict[str, Any]:
    return {
        "@type": "SupportedProperty",
        "property": {
            "@id": f"#{cls}/{name}",
            "@type": "rdf:Property",
            "rdfs:label": name,
            "domain": f"#{cls}",
            "range": range_,
        },
        "title": name,
        "description": description,
        "readable": True,
        "writeable": False,
    }
