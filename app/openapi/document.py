"""The OpenAPI 3.1 document of a :class:`~app.config.spec.ResourcesSpec`.

:func:`build_document` is pure and deterministic: the same spec always gives the same
document, paths in resource declaration order, operations only for the resource's
enabled operations. Item and collection bodies are offered as ``application/ld+json``
(JSON-LD, the default) and ``application/json``; PATCH takes
``application/merge-patch+json``; every error is ``application/problem+json``. Operations
with a rule need a bearer token (:mod:`app.openapi.security`); ``GET /auth/mercure`` is
described when the app serves it. Every operation reads the database, so every one may
answer 503 when it fails; every write may answer 413 (a body past ``MAX_BODY_SIZE``, or an
update its hub would refuse).

Responses that return an item carry OpenAPI ``links`` (as API Platform's do): to the
item's own operations (``id`` from the response body) and, from a create, to the creates
of the resources whose relations point at it (the relation set to the new item's IRI),
so clients and stateful testers can follow a resource through its life.
"""

from __future__ import annotations

from typing import Any

from app.config.spec import Operation, ResourceSpec, ResourcesSpec
from app.hub.http import HUB_PATH
from app.openapi.parameters import Parameter, filter_parameters, pagination_parameters
from app.openapi.problems import ERROR_RESPONSES, problem_components
from app.openapi.schema import Schema, ref, resource_schemas
from app.openapi.security import (
    BEARER_SCHEME,
    SCHEME,
    SUBSCRIBER_TOKEN_SCHEMA,
    TAG,
    SubscriberTokenRoute,
    access,
    any_secured,
    subscriber_token_path_item,
    subscriber_token_schema,
)
from app.publish.topic import IRI_PLACEHOLDER, url_pattern

OPENAPI_VERSION = "3.1.0"
JSONLD = "application/ld+json"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"

Document = dict[str, Any]

# Error statuses answered by each operation, besides its success status.
_ERRORS: dict[str, tuple[str, ...]] = {
    "get_collection": ("400", "406", "503"),
    "post": ("400", "406", "409", "413", "415", "422", "503"),
    "get": ("404", "406", "503"),
    "put": ("400", "404", "406", "409", "413", "415", "422", "503"),
    "patch": ("400", "404", "406", "409", "413", "415", "422", "503"),
    "delete": ("404", "409", "503"),
}
_ITEM_OPERATIONS: tuple[Operation, ...] = ("get", "put", "patch", "delete")


def build_document(
    spec: ResourcesSpec, *, subscriber_tokens: SubscriberTokenRoute | None = None
) -> Document:
    """Return the OpenAPI 3.1 document (plain JSON-compatible data) for ``spec``;
    ``subscriber_tokens``: the app also serves that route."""
    routes = {resource.name: resource.route for resource in spec.resources}
    schemas: dict[str, Schema] = {}
    paths: dict[str, dict[str, Any]] = {}
    for resource in spec.resources:
        schemas.update(resource_schemas(resource, routes))
        schemas.update(_collection_schemas(resource))
        collection, item = _path_items(spec, resource)
        if collection:
            if resource.mercure.enabled:
                collection = {"x-mercure": mercure_topics(resource), **collection}
            paths[resource.route] = collection
        if item:
            paths[f"{resource.route}/{{id}}"] = {
                "parameters": [_id_parameter(resource)],
                **item,
            }
    tags = [
        {"name": r.name, "description": r.description or f"Operations on {r.name}."}
        for r in spec.resources
    ]
    if subscriber_tokens is not None:
        paths[subscriber_tokens.path] = subscriber_token_path_item(subscriber_tokens)
        schemas[SUBSCRIBER_TOKEN_SCHEMA] = subscriber_token_schema()
        tags.append({"name": TAG, "description": "Mercure subscriber tokens for users."})
    components = problem_components(_referenced_errors(paths))
    components["schemas"] = {**schemas, **components["schemas"]}
    if subscriber_tokens is not None or any_secured(spec):
        components["securitySchemes"] = {SCHEME: dict(BEARER_SCHEME)}
    info: dict[str, Any] = {"title": spec.api.title, "version": spec.api.version}
    if spec.api.description:
        info["description"] = spec.api.description
    return {
        "openapi": OPENAPI_VERSION,
        "info": info,
        "servers": [{"url": "/", "description": "This gateway."}],
        "tags": tags,
        "paths": paths,
        "components": components,
    }


def mercure_topics(resource: ResourceSpec) -> dict[str, Any]:
    """How to subscribe to a resource's updates, in the ``x-mercure`` extension of its
    collection path: its topics as Mercure 0.x URI templates (``topic``) and as Mercure 1.0
    URL Patterns (``match_urlpattern``), relative to the gateway's origin (absolute in
    the updates), and whether they are private."""
    templates = resource.mercure.topics or (IRI_PLACEHOLDER,)
    item = f"{resource.route}/{{id}}"
    return {
        "hub": HUB_PATH,
        "private": resource.mercure.private,
        "topic": [item if t == IRI_PLACEHOLDER else t for t in templates],
        "match_urlpattern": [url_pattern(t, "", resource.route) for t in templates],
    }


def _referenced_errors(paths: dict[str, dict[str, Any]]) -> set[str]:
    """The error statuses whose shared response some operation refers to."""
    return {
        status
        for item in paths.values()
        for operation in item.values()
        if isinstance(operation, dict)
        for status, response in operation.get("responses", {}).items()
        if "$ref" in response
    }


def _path_items(
    spec: ResourcesSpec, resource: ResourceSpec
) -> tuple[dict[str, Any], dict[str, Any]]:
    name = resource.name
    enabled = set(resource.operations)
    collection: dict[str, Any] = {}
    item: dict[str, Any] = {}
    links = _item_links(resource)
    if "get_collection" in enabled:
        collection["get"] = _operation(
            resource,
            "get_collection",
            f"Retrieves the collection of {name} resources.",
            {"200": _body_response(f"{name} collection.", _collection_content(name))},
            parameters=_unique(pagination_parameters(resource) + filter_parameters(resource, spec)),
        )
    if "post" in enabled:
        collection["post"] = _operation(
            resource,
            "post",
            f"Creates a {name} resource.",
            {
                "201": {
                    **_body_response(f"{name} resource created.", _item_content(name)),
                    "headers": {
                        "Location": {
                            "description": "IRI of the created resource.",
                            "schema": {"type": "string", "format": "iri-reference"},
                        }
                    },
                    **_links({**links, **_create_links(spec, resource)}),
                }
            },
            body=_request_body(f"The new {name} resource.", _item_content(name)),
        )
    if "get" in enabled:
        item["get"] = _operation(
            resource,
            "get",
            f"Retrieves a {name} resource.",
            {"200": _body_response(f"{name} resource.", _item_content(name))},
        )
    if "put" in enabled:
        item["put"] = _operation(
            resource,
            "put",
            f"Replaces the {name} resource.",
            {
                "200": {
                    **_body_response(f"{name} resource updated.", _item_content(name)),
                    **_links(links),
                }
            },
            body=_request_body(f"The updated {name} resource.", _item_content(name)),
        )
    if "patch" in enabled:
        item["patch"] = _operation(
            resource,
            "patch",
            f"Updates the {name} resource (JSON merge patch).",
            {
                "200": {
                    **_body_response(f"{name} resource updated.", _item_content(name)),
                    **_links(links),
                }
            },
            body=_request_body(
                f"The fields of the {name} resource to change.",
                {MERGE_PATCH: {"schema": ref(f"{name}.jsonMergePatch")}},
            ),
        )
    if "delete" in enabled:
        item["delete"] = _operation(
            resource,
            "delete",
            f"Removes the {name} resource.",
            {"204": {"description": f"{name} resource deleted."}},
        )
    return collection, item


def _operation(
    resource: ResourceSpec,
    operation: Operation,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[Parameter] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": _operation_id(resource, operation),
        "tags": [resource.name],
        "summary": summary,
    }
    if parameters:
        result["parameters"] = parameters
    if body is not None:
        result["requestBody"] = body
    security, denials = access(resource, operation)
    if security is not None:
        result["security"] = security
    for status in sorted((*_ERRORS[operation], *denials)):
        responses[status] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status]}"}
    result["responses"] = responses
    return result


def _operation_id(resource: ResourceSpec, operation: Operation) -> str:
    if operation == "get_collection":
        return f"get{resource.name}Collection"
    return f"{operation}{resource.name}"


def _item_links(resource: ResourceSpec) -> dict[str, Any]:
    """Links from a response carrying an item to that item's own operations."""
    links: dict[str, Any] = {}
    for operation in _ITEM_OPERATIONS:
        if operation in resource.operations:
            operation_id = _operation_id(resource, operation)
            links[operation_id] = {
                "operationId": operation_id,
                "parameters": {"id": "$response.body#/id"},
                "description": f"The `id` of the {resource.name} answered.",
            }
    return links


def _create_links(spec: ResourcesSpec, target: ResourceSpec) -> dict[str, Any]:
    """Links from a create of ``target`` to the creates of the resources that relate to it,
    with the relation set to the new item's IRI."""
    links: dict[str, Any] = {}
    for resource in spec.resources:
        if "post" not in resource.operations:
            continue
        for relation in resource.relations:
            if relation.target != target.name or relation.read_only:
                continue
            operation_id = _operation_id(resource, "post")
            link_name = f"{operation_id}With{relation.name[:1].upper()}{relation.name[1:]}"
            links[link_name] = {
                "operationId": operation_id,
                "requestBody": {relation.name: f"{target.route}/{{$response.body#/id}}"},
                "description": f"A {resource.name} whose {relation.name} is the "
                f"{target.name} answered.",
            }
    return links


def _links(links: dict[str, Any]) -> dict[str, Any]:
    return {"links": links} if links else {}


def _item_content(name: str) -> dict[str, Any]:
    return {JSONLD: {"schema": ref(f"{name}.jsonld")}, JSON: {"schema": ref(name)}}


def _collection_content(name: str) -> dict[str, Any]:
    return {
        JSONLD: {"schema": ref(f"{name}.jsonld.collection")},
        JSON: {"schema": {"type": "array", "items": ref(name)}},
    }


def _collection_schemas(resource: ResourceSpec) -> dict[str, Schema]:
    name = resource.name
    return {
        f"{name}.jsonld.collection": {
            "type": "object",
            "required": ["member"],
            "properties": {
                "@context": {"type": "string", "examples": [f"/contexts/{name}"]},
                "@id": {"type": "string", "examples": [resource.route]},
                "@type": {"type": "string", "examples": ["Collection"]},
                "member": {"type": "array", "items": ref(f"{name}.jsonld")},
                "totalItems": {"type": "integer", "minimum": 0},
                "view": ref("CollectionView"),
                "search": ref("IriTemplate"),
            },
        }
    }


def _body_response(description: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": content}


def _request_body(description: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "required": True, "content": content}


def _id_parameter(resource: ResourceSpec) -> Parameter:
    return {
        "name": "id",
        "in": "path",
        "required": True,
        "description": f"The {resource.name} identifier.",
        "schema": {"type": "integer"},
    }


def _unique(parameters: list[Parameter]) -> list[Parameter]:
    """Drop repeated names (a field may be both a search and a boolean filter)."""
    seen: set[str] = set()
    result = []
    for parameter in parameters:
        if parameter["name"] not in seen:
            seen.add(parameter["name"])
            result.append(parameter)
    return result
