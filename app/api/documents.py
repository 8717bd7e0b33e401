"""JSON-LD documents that are not items: collections, the entrypoint, contexts.

Shapes follow API Platform 4 with ``hydra_prefix: false`` (``member``, ``totalItems``,
``view``, ``search``; ``@type`` ``Collection``). IRIs are relative to the application
root; only ``@vocab`` is absolute, as API Platform writes it.

Every context document carries Hydra Core's own context inline (:func:`hydra_context`,
the W3C's ``http://www.w3.org/ns/hydra/context.jsonld`` shipped with the app), before the
resource's terms: ``member``, ``totalItems``, ``view`` and the error's ``title`` and
``description`` expand to Hydra's terms, and no client needs the network (or a plain
``http://`` request from an HTTPS page) to read a document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from typing import Any

from app.config.parameters import query_parameters
from app.config.spec import ResourceSpec, ResourcesSpec
from app.models import context_iri

HYDRA = "http://www.w3.org/ns/hydra/core#"
GENERIC_CONTEXTS = ("Entrypoint", "Error", "ConstraintViolation")
HYDRA_CONTEXT_FILE = "hydra-context.jsonld"


@cache
def hydra_context() -> Mapping[str, Any]:
    """Hydra Core's context definition (the ``@context`` of the W3C's document), read once.

    The same object is returned every time: callers serialize it and never change it.
    """
    text = files(__package__).joinpath(HYDRA_CONTEXT_FILE).read_text(encoding="utf-8")
    terms: Mapping[str, Any] = json.loads(text)["@context"]
    return terms


def entrypoint_key(resource: ResourceSpec) -> str:
    """The entrypoint property of a resource: ``Book`` -> ``book``."""
    return resource.name[:1].lower() + resource.name[1:]


def entrypoint(spec: ResourcesSpec, *, jsonld: bool) -> dict[str, Any]:
    """The API's entrypoint: one link per collection."""
    links = {entrypoint_key(r): r.route for r in spec.resources if "get_collection" in r.operations}
    if not jsonld:
        return links
    return {"@context": "/contexts/Entrypoint", "@id": "/", "@type": "Entrypoint", **links}


def context(spec: ResourcesSpec, name: str, vocab: str) -> dict[str, Any] | None:
    """The JSON-LD context called ``name`` (a resource or a generic one), else ``None``:
    ``{"@context": [<Hydra's context>, <terms>]}``, the terms overriding Hydra's."""
    terms: dict[str, Any] = {"@vocab": vocab, "hydra": HYDRA}
    if name in GENERIC_CONTEXTS:
        if name == "Entrypoint":
            terms["Entrypoint"] = "Entrypoint"
            for resource in spec.resources:
                key = entrypoint_key(resource)
                terms[key] = {"@id": f"Entrypoint/{key}", "@type": "@id"}
        return {"@context": [hydra_context(), terms]}
    try:
        resource = spec.resource(name)
    except KeyError:
        return None
    for field in resource.fields:
        terms[field.name] = field.iri or f"{resource.name}/{field.name}"
    for relation in resource.relations:
        iri = relation.iri or f"{resource.name}/{relation.name}"
        terms[relation.name] = {"@id": iri, "@type": "@id"}
    return {"@context": [hydra_context(), terms]}


def search_template(resource: ResourceSpec) -> dict[str, Any] | None:
    """The Hydra ``IriTemplate`` of the collection's filters and orderings
    (:func:`~app.config.parameters.query_parameters`), or ``None`` without any."""
    opaque = {f.name for f in resource.fields if f.type == "json"}
    variables = [
        (p.name, p.property)
        for p in query_parameters(resource)
        if p.property not in opaque or p.kind == "exists"
    ]
    if not variables:
        return None
    return {
        "@type": "IriTemplate",
        "template": f"{resource.route}{{?{','.join(v for v, _ in variables)}}}",
        "variableRepresentation": "BasicRepresentation",
        "mapping": [
            {"@type": "IriTemplateMapping", "variable": v, "property": p, "required": False}
            for v, p in variables
        ],
    }


def collection(
    resource: ResourceSpec,
    members: list[dict[str, Any]],
    total: int,
    view: dict[str, Any] | None,
    search: dict[str, Any] | None,
) -> dict[str, Any]:
    """The JSON-LD collection document (``search``: :func:`search_template`'s result)."""
    document: dict[str, Any] = {
        "@context": context_iri(resource),
        "@id": resource.route,
        "@type": "Collection",
        "totalItems": total,
        "member": members,
    }
    if view is not None:
        document["view"] = view
    if search is not None:
        document["search"] = search
    return document
