"""Schemathesis hooks of the contract test (:mod:`tests.openapi.test_schemathesis`).

Loaded by the ``st`` command through ``SCHEMATHESIS_HOOKS``; ``GATEWAY_URL`` is the served
gateway and ``GATEWAY_AUTHORIZATION`` the ``Authorization`` header the run sends (empty
for an anonymous run).

They cover what a schema cannot say: *which* items exist, and which deletes remove other
items.

- ``before_call``: a relation is documented as the IRI of an item of its target
  (``/books/7``), and the API answers 422 when that item does not exist (API Platform
  answers 400), so a body that only matches the schema may well be refused. Before a
  request generated as valid is sent, each relation IRI in its body that names no
  existing item is pointed at one that does. Values generated as invalid are left alone,
  so the negative checks still see what was drawn.
- ``filter_failure`` drops one kind of failure only: "created resource not found"
  (``ensure_resource_availability``, ST302) for an item whose related item has been
  deleted since it was created. Deleting a book deletes its reviews (``on_delete:
  cascade``), which the check cannot know: it only counts a ``DELETE`` of the item or of a
  path above it. The hook drops the failure only when the 404 is indeed that cascade's:
  the related item answers 404 too. Every other failure of every check stands.
"""

from __future__ import annotations

import functools
import json
import os
import re
from typing import Any

import httpx
import schemathesis
from schemathesis import Case, GenerationMode, HookContext, Response
from schemathesis.core.failures import Failure

_ITEM_IRI = re.compile(r"^(?P<route>/[A-Za-z0-9_\-/]+)/[1-9][0-9]*$")


def _client() -> httpx.Client:
    headers = {"Accept": "application/json"}
    authorization = os.environ.get("GATEWAY_AUTHORIZATION")
    if authorization:
        headers["Authorization"] = authorization
    return httpx.Client(base_url=os.environ["GATEWAY_URL"], headers=headers, timeout=10)


_RELATED: dict[str, set[str]] = {}
"""Created item IRI -> the IRIs of the items its relations named when it was created."""


@functools.cache
def _relations(method: str, path: str) -> frozenset[str]:
    """Body properties the operation documents as IRIs of items (relations)."""
    with _client() as client:
        document = client.get("/docs.json").json()
    body = document["paths"][path][method.lower()].get("requestBody", {})
    names: set[str] = set()
    for media in body.get("content", {}).values():
        schema = media["schema"]
        while "$ref" in schema or "allOf" in schema:
            ref = schema["$ref"] if "$ref" in schema else schema["allOf"][0]["$ref"]
            schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
        for name, prop in schema.get("properties", {}).items():
            if prop.get("format") == "iri-reference" and not prop.get("readOnly"):
                names.add(name)
    return frozenset(names)


def _existing(client: httpx.Client, route: str) -> str | None:
    """The IRI of some item of ``route``, or ``None`` if it has none."""
    response = client.get(route)
    if response.status_code != 200 or not response.json():
        return None
    return f"{route}/{response.json()[0]['id']}"


@schemathesis.hook
def before_call(context: HookContext, case: Case, kwargs: dict[str, Any]) -> None:
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    if not isinstance(case.body, dict):
        return
    relations = _relations(case.operation.method, case.operation.path) & set(case.body)
    if not relations:
        return
    with _client() as client:
        for name in relations:
            value = case.body[name]
            match = _ITEM_IRI.match(value) if isinstance(value, str) else None
            if match is None or client.get(value).status_code == 200:
                continue
            replacement = _existing(client, match["route"])
            if replacement is not None:
                case.body[name] = replacement


@schemathesis.hook
def after_call(context: HookContext, case: Case, response: Response) -> None:
    if case.operation.method.upper() != "POST" or response.status_code != 201:
        return
    location = response.headers.get("location", [None])[0]
    relations = _relations(case.operation.method, case.operation.path)
    if location is None or not relations:
        return
    item = json.loads(response.content)
    _RELATED[location] = {item[name] for name in relations if isinstance(item.get(name), str)}


@schemathesis.hook
def filter_failure(context: HookContext, failure: Failure, case: Case, response: Response) -> bool:
    """Keep every failure but a cascade's 404 (see the module's docstring)."""
    if failure.code != "ST302" or response.status_code != 404:
        return True
    related = _RELATED.get(case.formatted_path, set())
    with _client() as client:
        cascaded = any(client.get(iri).status_code == 404 for iri in related)
    return not cascaded
