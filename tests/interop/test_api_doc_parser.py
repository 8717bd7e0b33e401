"""API Platform's documentation parser (``@api-platform/api-doc-parser``, what API Platform
Admin runs first) reads the shipped bookshop from ``/docs.jsonld`` and from
``/docs.jsonopenapi`` and finds every resource, field, type, relation and operation, with
no request leaving the API's origin (the Hydra context is inline)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.api.hydra import OPERATIONS, RANGES
from app.config.spec import FieldSpec, Operation, RelationSpec, ResourceSpec
from app.schemas import effectively_required
from tests.interop.clients import HERE, require_node
from tests.publish.gateway import bookshop
from tests.services import LiveServer
from tests.ui.gateway import start_gateway

XMLS = "http://www.w3.org/2001/XMLSchema#"
HYDRA_TITLES = {
    "get_collection": "get{}Collection",
    "post": "post{}",
    "get": "get{}",
    "put": "put{}",
    "patch": "patch{}",
    "delete": "delete{}",
}
ADMIN_TYPES: dict[Operation, str] = {
    "get_collection": "list",
    "post": "create",
    "get": "show",
    "put": "edit",
    "patch": "edit",
    "delete": "delete",
}
"""The kind of view API Platform Admin makes of each operation."""
OPENAPI_TYPES = {
    "string": "string",
    "text": "string",
    "integer": "integer",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
}
"""What the parser reports as the type of a field of each bookshop type (OpenAPI)."""


def parse(mode: str, url: str, *extra: str) -> dict[str, Any]:
    node = require_node("@api-platform/api-doc-parser")
    result = subprocess.run(
        [node, str(HERE / "parse_docs.mjs"), mode, url, *extra],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=HERE,
    )
    assert result.stdout, result.stderr
    output: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    assert "error" not in output, output["detail"]
    assert result.returncode == 0, result.stderr
    return output


@pytest.fixture
def api(serve: Callable[..., LiveServer], tmp_path: Path) -> str:
    return start_gateway(serve, tmp_path / "gateway.db").live.url


def _members(resource: ResourceSpec) -> list[FieldSpec | RelationSpec]:
    return [*resource.fields, *resource.relations]


def _route_name(resource: ResourceSpec) -> str:
    return resource.route.strip("/")


def test_the_parser_reads_the_hydra_documentation_offline(api: str) -> None:
    output = parse("hydra", f"{api}/")
    assert all(url.startswith(f"{api}/") for url in output["requested"]), output["requested"]
    assert f"{api}/docs.jsonld" in output["requested"]
    found = {r["title"]: r for r in output["api"]["resources"]}
    spec = bookshop()
    assert output["api"]["title"] == spec.api.title
    assert list(found) == [r.name for r in spec.resources]
    for resource in spec.resources:
        parsed = found[resource.name]
        assert parsed["name"] == _route_name(resource)
        assert parsed["url"] == f"{api}{resource.route}"
        assert parsed["id"] == f"{api}/docs.jsonld#{resource.name}"
        fields = {f["name"]: f for f in parsed["fields"]}
        members = _members(resource)
        assert list(fields) == [m.name for m in members]
        for member in members:
            field = fields[member.name]
            iri = member.iri or f"{api}/docs.jsonld#{resource.name}/{member.name}"
            assert field["id"] == iri
            assert field["required"] == (effectively_required(member) and not member.read_only)
            if isinstance(member, RelationSpec):
                assert field["reference"] == member.target
                assert field["maxCardinality"] == 1
                assert field["range"] == f"{api}/docs.jsonld#{member.target}"
            else:
                range_ = RANGES[member.type]
                assert range_ is not None
                assert field["range"] == XMLS + range_.removeprefix("xmls:")
                assert field["reference"] is None
        assert parsed["readable"] == [m.name for m in members if not m.write_only]
        assert parsed["writable"] == [m.name for m in members if not m.read_only]
        operations = [(o["name"], o["type"], o["method"]) for o in parsed["operations"]]
        assert operations == [
            (HYDRA_TITLES[op].format(resource.name), ADMIN_TYPES[op], OPERATIONS[op][0])
            for op in OPERATIONS
            if op in resource.operations
        ]
    # The property API Platform Admin labels items by.
    assert fields_by_name(found["Book"])["title"]["id"] == "https://schema.org/name"


def fields_by_name(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in resource["fields"]}


def test_the_parser_reads_the_openapi_document(api: str) -> None:
    output = parse("openapi", f"{api}/docs.jsonopenapi", f"{api}/")
    assert output["requested"] == [f"{api}/docs.jsonopenapi"]
    found = {r["title"]: r for r in output["api"]["resources"]}
    spec = bookshop()
    assert list(found) == [r.name for r in spec.resources]
    for resource in spec.resources:
        parsed = found[resource.name]
        assert parsed["name"] == _route_name(resource)
        assert parsed["url"] == f"{api}{resource.route}"
        fields = fields_by_name(parsed)
        members = _members(resource)
        assert list(fields) == ["id", *(m.name for m in members)]
        for member in members:
            field = fields[member.name]
            if isinstance(member, RelationSpec):
                assert field["reference"] == member.target
                assert field["type"] == "iriReference"
                continue
            declared = field["type"]
            # api-doc-parser passes OpenAPI 3.1's type lists (["string", "null"]) through.
            kinds = list(declared.values()) if isinstance(declared, dict) else [declared]
            assert OPENAPI_TYPES[member.type] in kinds, (member.name, declared)
            assert field["reference"] is None
            assert field["required"] == (member.required and not member.read_only)
        assert parsed["readable"] == ["id", *(m.name for m in members if not m.write_only)]
        assert parsed["writable"] == [m.name for m in members if not m.read_only]
        kinds = sorted((o["type"], o["method"]) for o in parsed["operations"])
        assert kinds == sorted((ADMIN_TYPES[op], OPERATIONS[op][0]) for op in resource.operations)
