"""The AsyncAPI 3.0 document of the updates a :class:`~app.config.spec.ResourcesSpec` publishes.

:func:`build_document` is pure and deterministic, like the OpenAPI document: the same spec,
origin and hub URLs always give the same document. It describes the gateway as an
application that *sends* updates to Mercure hubs, which subscribers read:

- one server per hub the resources publish to (the built-in hub, or an external one), with
  the ``mercure`` protocol, at the URL the API advertises in ``Link: rel="mercure"``;
- one channel per topic template of each Mercure resource: the item IRI (the default,
  ``@iri``) or each entry of its ``topics`` option. A channel's ``address`` is the absolute
  topic with its expressions as parameters (``{book.id}`` becomes the parameter
  ``book_id``); the same address is a URI template a subscriber may pass as ``topic``.
  ``x-mercure-private`` tells which channels carry private updates;
- two messages per resource: ``<Name>.saved`` (create and update: the JSON-LD item, whose
  schema is the very ``<Name>.jsonld`` component of the OpenAPI document, taken from
  :func:`app.openapi.schema.resource_schemas`; or the ``data`` option's literal text) and
  ``<Name>.deleted`` (``{"@id": ...}``, plus ``@type`` with ``include_type``). The SSE
  fields are the messages' headers: ``id`` (the ``id`` option's template, else a fresh
  ``urn:uuid:``), ``event`` (the ``type`` option) and ``retry`` (the ``retry`` option);
- the subscribers' security schemes: a bearer JWT, the ``mercureAuthorization`` cookie (or
  the configured name) and the ``authorization`` query parameter, and, when the app serves
  it, how a user gets such a token (``GET /auth/mercure``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec, ResourcesSpec
from app.openapi.schema import Schema, iri_pattern, ref, resource_schemas
from app.publish.topic import IRI_PLACEHOLDER, Expression, parse

ASYNCAPI_VERSION = "3.0.0"
JSONLD = "application/ld+json"
DEFAULT_SERVER = "hub"
BEARER = "bearer"
COOKIE = "cookie"
QUERY = "query"

Document = dict[str, Any]

_PARAMETER_CHARACTERS = re.compile(r"[^A-Za-z0-9_\-]")


@dataclasses.dataclass(frozen=True)
class TokenRoute:
    """``GET <path>`` gives a signed-in user a subscriber token (and sets the cookie)."""

    path: str


def build_document(
    spec: ResourcesSpec,
    origin: str,
    hub_urls: Mapping[str, str],
    *,
    cookie_name: str = "mercureAuthorization",
    tokens: TokenRoute | None = None,
) -> Document:
    """The AsyncAPI 3.0 document (plain JSON-compatible data) of ``spec``'s updates.

    ``origin`` is the public origin of topics (``https://shop.example``); ``hub_urls`` maps
    each Mercure resource's name to the absolute URL of the hub it publishes to (resources
    absent from it are left out). ``tokens``: the app serves subscriber tokens there."""
    routes = {resource.name: resource.route for resource in spec.resources}
    publishing = [r for r in spec.resources if r.mercure.enabled and r.name in hub_urls]
    servers: dict[str, Any] = {}
    server_named: dict[str, str] = {}  # hub URL -> server name
    for resource in publishing:
        url = hub_urls[resource.name]
        if url not in server_named:
            name = DEFAULT_SERVER if not servers else f"{DEFAULT_SERVER}{len(servers) + 1}"
            server_named[url] = name
            servers[name] = _server(url)
    schemas: dict[str, Schema] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for resource in publishing:
        all_schemas = resource_schemas(resource, routes)
        schemas[resource.name] = all_schemas[resource.name]
        schemas[f"{resource.name}.jsonld"] = all_schemas[f"{resource.name}.jsonld"]
        saved, deleted = f"{resource.name}.saved", f"{resource.name}.deleted"
        messages[saved] = _saved_message(resource, all_schemas)
        messages[deleted] = _deleted_message(resource)
        templates = resource.mercure.topics or (IRI_PLACEHOLDER,)
        for index, template in enumerate(templates):
            channel = resource.name if index == 0 else f"{resource.name}.topic{index + 1}"
            server = server_named[hub_urls[resource.name]]
            channels[channel] = _channel(resource, template, origin, server)
            operations[f"{channel}.published"] = _operation(resource, channel)
    info: dict[str, Any] = {
        "title": f"{spec.api.title}: live updates",
        "version": spec.api.version,
        "description": _info_description(spec, tokens),
    }
    document: Document = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": info,
        "defaultContentType": JSONLD,
        "servers": servers,
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": _security_schemes(cookie_name, tokens),
        },
    }
    return document


def _info_description(spec: ResourcesSpec, tokens: TokenRoute | None) -> str:
    text = spec.api.description + "\n\n" if spec.api.description else ""
    text += (
        "Every committed create, update and delete of these resources is published as a "
        "Mercure update. Subscribe with `GET <hub>?topic=<channel address>` (Server-Sent "
        "Events; repeat `topic` for several channels; the address is a URI template, or "
        "pass one item's topic). Reconnect with `Last-Event-ID` to get what was missed. "
        "Anonymous subscribers receive public updates; private channels need a subscriber "
        "token whose `mercure.subscribe` claim matches."
    )
    if tokens is not None:
        text += (
            f" A signed-in user gets one from `GET {tokens.path}` (bearer token of the "
            "REST API): it lists exactly the updates that user may read, and the answer "
            "also sets the cookie."
        )
    return text


def _server(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    server: dict[str, Any] = {
        "host": parts.netloc,
        "protocol": "mercure",
        "pathname": parts.path or "/",
        "description": f'The Mercure hub at {url}, as advertised in `Link: rel="mercure"`.',
    }
    return server


def _parameter_name(expression: Expression) -> str:
    return _PARAMETER_CHARACTERS.sub("_", "_".join(expression.path))


def _address(resource: ResourceSpec, template: str, origin: str) -> tuple[str, dict[str, Any]]:
    """The channel address of one topic template and its parameters."""
    if template == IRI_PLACEHOLDER:
        return f"{origin}{resource.route}/{{id}}", {
            "id": {"description": f"The id of the {resource.name}.", "examples": ["1"]}
        }
    text = ""
    parameters: dict[str, Any] = {}
    for part in parse(template):
        if isinstance(part, str):
            text += part
            continue
        name = _parameter_name(part)
        text += f"{{{name}}}"
        dotted = ".".join(part.path)
        expansion = "reserved characters kept (`{+...}`)" if part.reserved else "percent-encoded"
        parameters[name] = {
            "description": f"The {resource.name}'s `{dotted}`, {expansion}.",
        }
    if "://" not in text:
        text = origin + ("" if text.startswith("/") else "/") + text
    return text, parameters


def _channel(resource: ResourceSpec, template: str, origin: str, server: str) -> dict[str, Any]:
    address, parameters = _address(resource, template, origin)
    private = resource.mercure.private
    audience = (
        " Updates also carry audience topics under `/auth/mercure/audiences`, which "
        "subscriber tokens name to receive exactly the items their user may read."
        if resource.security.read is not None
        else ""
    )
    channel: dict[str, Any] = {
        "address": address,
        "title": f"{resource.name} updates"
        + ("" if template == IRI_PLACEHOLDER else f" ({template})"),
        "description": (
            f"Creates, updates and deletes of {resource.name} items, on the topic "
            f"`{template}`. "
            + (
                "Private: only subscribers whose token's `mercure.subscribe` matches one of "
                "an update's topics receive it."
                if private
                else "Public: every subscriber to this topic receives them."
            )
            + audience
        ),
        "servers": [{"$ref": f"#/servers/{server}"}],
        "messages": {
            "saved": {"$ref": f"#/components/messages/{resource.name}.saved"},
            "deleted": {"$ref": f"#/components/messages/{resource.name}.deleted"},
        },
        "x-mercure-private": private,
    }
    if parameters:
        channel["parameters"] = parameters
    return channel


def _operation(resource: ResourceSpec, channel: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{channel}"},
        "title": f"{resource.name} changed",
        "summary": f"The gateway publishes each committed change of a {resource.name}.",
        "messages": [
            {"$ref": f"#/channels/{channel}/messages/saved"},
            {"$ref": f"#/channels/{channel}/messages/deleted"},
        ],
    }
    if resource.mercure.private:
        operation["security"] = [
            {"$ref": f"#/components/securitySchemes/{name}"} for name in (BEARER, COOKIE, QUERY)
        ]
    return operation


def _headers(resource: ResourceSpec) -> Schema:
    """The SSE fields of an update, as the message's headers."""
    options = resource.mercure
    update_id: Schema = {"type": "string"}
    if options.id:
        update_id["description"] = f"The `id` option's template `{options.id}`, expanded."
    else:
        update_id["description"] = "A fresh `urn:uuid:` per update."
        update_id["pattern"] = "^urn:uuid:[0-9a-f-]{36}$"
    properties: dict[str, Schema] = {"id": update_id}
    required = ["id"]
    if options.type is not None:
        properties["event"] = {
            "type": "string",
            "const": options.type,
            "description": "The SSE `event:` field (the `type` option).",
        }
        required.append("event")
    if options.retry is not None:
        properties["retry"] = {
            "type": "integer",
            "const": options.retry,
            "description": "The SSE `retry:` field, in milliseconds (the `retry` option).",
        }
        required.append("retry")
    return {"type": "object", "properties": properties, "required": required}


def _saved_message(resource: ResourceSpec, schemas: Mapping[str, Schema]) -> dict[str, Any]:
    options = resource.mercure
    message: dict[str, Any] = {
        "name": f"{resource.name}.saved",
        "title": f"{resource.name} created or updated",
        "headers": _headers(resource),
        "correlationId": {"location": "$message.header#/id"},
    }
    if options.data is not None:
        message["summary"] = "The `data` option's text, verbatim."
        message["contentType"] = "text/plain"
        message["payload"] = {"type": "string", "const": options.data}
    elif options.normalization_groups:
        groups = ", ".join(options.normalization_groups)
        message["summary"] = f"The JSON-LD item, fields of the groups {groups} only."
        message["contentType"] = JSONLD
        message["payload"] = _grouped(resource, schemas)
    else:
        message["summary"] = "The JSON-LD item, as `GET` answers it."
        message["contentType"] = JSONLD
        message["payload"] = ref(f"{resource.name}.jsonld")
    return message


def _grouped(resource: ResourceSpec, schemas: Mapping[str, Schema]) -> Schema:
    """The JSON-LD item restricted to the normalization groups: the properties of the
    OpenAPI schema whose field is in a group, ``id`` and the JSON-LD keys."""
    groups = set(resource.mercure.normalization_groups)
    members: list[FieldSpec | RelationSpec] = [*resource.fields, *resource.relations]
    kept = {"id"} | {
        spec.name for spec in members if set(spec.groups) & groups and not spec.write_only
    }
    keys: dict[str, Schema] = schemas[f"{resource.name}.jsonld"]["allOf"][1]["properties"]
    plain = schemas[resource.name]["properties"]
    properties = {name: schema for name, schema in plain.items() if name in kept}
    return {
        "type": "object",
        "properties": {**keys, **properties},
        "required": ["@id", "@type", "id"],
        "additionalProperties": False,
    }


def _deleted_message(resource: ResourceSpec) -> dict[str, Any]:
    properties: dict[str, Schema] = {
        "@id": {
            "type": "string",
            "format": "iri-reference",
            "pattern": iri_pattern(resource.route),
            "description": "The relative IRI of the deleted item.",
        }
    }
    required = ["@id"]
    if resource.mercure.include_type:
        properties["@type"] = {"type": "string", "const": resource.name}
        required.append("@type")
    return {
        "name": f"{resource.name}.deleted",
        "title": f"{resource.name} deleted",
        "summary": "The IRI of the deleted item.",
        "contentType": JSONLD,
        "headers": _headers(resource),
        "correlationId": {"location": "$message.header#/id"},
        "payload": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


def _security_schemes(cookie_name: str, tokens: TokenRoute | None) -> dict[str, Any]:
    how = (
        f" A signed-in user gets one from `GET {tokens.path}`."
        if tokens is not None
        else " Mint one with the hub's subscriber key (`flask hub token`)."
    )
    return {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A subscriber JWT in `Authorization: Bearer`, whose "
            "`mercure.subscribe` claim lists the topic selectors it may read." + how,
        },
        COOKIE: {
            "type": "httpApiKey",
            "name": cookie_name,
            "in": "cookie",
            "description": "The same JWT in a cookie (browsers' `EventSource` cannot set "
            "headers)." + how,
        },
        QUERY: {
            "type": "httpApiKey",
            "name": "authorization",
            "in": "query",
            "description": "The same JWT in the `authorization` query parameter.",
        },
    }
