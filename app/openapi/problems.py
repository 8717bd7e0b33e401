"""Shared components: the problem+json error shapes, the collection ``view`` and ``search``.

The error schemas describe the one body :mod:`app.errors` renders for every error:
``type``, ``title``, ``status``, ``detail`` and, for 422, ``violations`` as a list of
``{propertyPath, message}``. A 401 also carries the RFC 6750 ``WWW-Authenticate: Bearer``
challenge.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app.errors import PROBLEM_JSON

# Status -> name of the response component describing it.
ERROR_RESPONSES: dict[str, str] = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "406": "NotAcceptable",
    "409": "Conflict",
    "413": "PayloadTooLarge",
    "415": "UnsupportedMediaType",
    "422": "UnprocessableEntity",
    "503": "ServiceUnavailable",
}

_DESCRIPTIONS: dict[str, str] = {
    "400": "Invalid input: malformed JSON, an unknown filter value or a bad IRI.",
    "401": "No bearer token was sent, or the token cannot be trusted (bad signature, "
    "expired, wrong issuer or audience).",
    "403": "The authenticated user may not perform this operation.",
    "404": "No such resource.",
    "406": "None of the media types in Accept can be produced.",
    "409": "The change conflicts with existing data (unique or referenced row).",
    "413": "The body is larger than MAX_BODY_SIZE, or the update the change would publish is "
    "larger than its hub accepts; the detail names the limit and its setting.",
    "415": "The request body's Content-Type is not accepted by this operation.",
    "422": "The body is well formed but some properties are invalid.",
    "503": "The database is unavailable or failed to complete the request; try again later.",
}


def problem_components(statuses: Collection[str] = tuple(ERROR_RESPONSES)) -> dict[str, Any]:
    """``schemas`` (errors, collection ``view`` and ``search``) and the ``responses`` of
    the error ``statuses`` (keys of :data:`ERROR_RESPONSES`), in that table's order."""
    error: dict[str, Any] = {
        "type": "object",
        "description": "An RFC 9457 problem document.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "@context": {"type": "string", "readOnly": True},
            "@type": {"type": "string", "readOnly": True},
            "type": {"type": "string", "description": "A URI reference naming the problem."},
            "title": {"type": "string", "description": "A short summary of the problem."},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "detail": {"type": "string", "description": "What was wrong, and how to fix it."},
            "description": {"type": "string"},
        },
    }
    violation: dict[str, Any] = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {
                "type": "object",
                "required": ["violations"],
                "properties": {
                    "violations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["propertyPath", "message"],
                            "properties": {
                                "propertyPath": {
                                    "type": "string",
                                    "description": "Dotted path of the invalid property.",
                                },
                                "message": {"type": "string"},
                            },
                        },
                    }
                },
            },
        ]
    }
    view: dict[str, Any] = {
        "type": "object",
        "description": "Paging links, present only when the collection is paged.",
        "properties": {
            "@id": {"type": "string", "format": "iri-reference"},
            "@type": {"type": "string", "examples": ["PartialCollectionView"]},
            "first": {"type": "string", "format": "iri-reference"},
            "last": {"type": "string", "format": "iri-reference"},
            "previous": {"type": "string", "format": "iri-reference"},
            "next": {"type": "string", "format": "iri-reference"},
        },
    }
    search: dict[str, Any] = {
        "type": "object",
        "description": "The collection's filters as a Hydra IriTemplate.",
        "properties": {
            "@type": {"type": "string", "examples": ["IriTemplate"]},
            "template": {"type": "string"},
            "variableRepresentation": {"type": "string"},
            "mapping": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "@type": {"type": "string"},
                        "variable": {"type": "string"},
                        "property": {"type": ["string", "null"]},
                        "required": {"type": "boolean"},
                    },
                },
            },
        },
    }
    responses = {
        name: _problem_response(status)
        for status, name in ERROR_RESPONSES.items()
        if status in statuses
    }
    return {
        "schemas": {
            "Error": error,
            "ConstraintViolation": violation,
            "CollectionView": view,
            "IriTemplate": search,
        },
        "responses": responses,
    }


def _problem_response(status: str) -> dict[str, Any]:
    schema = "ConstraintViolation" if status == "422" else "Error"
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if status == "401":
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'The bearer challenge: `Bearer realm="api"`, with `error` and '
                "`error_description` when a token was refused (RFC 6750).",
                "schema": {"type": "string"},
            }
        }
    return response
