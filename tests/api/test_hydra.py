"""The Hydra API documentation ``/docs.jsonld`` and the ``Link`` that advertises it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.api.documents import hydra_context
from app.api.hydra import RANGES
from app.config.spec import FIELD_TYPES, FieldType
from tests.api.specs import CATALOG

DOCS_REL = 'rel="http://www.w3.org/ns/hydra/core#apiDocumentation"'
TITLES = {
    "get_collection": "get{}Collection",
    "post": "post{}",
    "get": "get{}",
    "put": "put{}",
    "patch": "patch{}",
    "delete": "delete{}",
}


@pytest.mark.parametrize(
    ("field_type", "expected"),
    [
        ("string", "xmls:string"),
        ("text", "xmls:string"),
        ("enum", "xmls:string"),
        ("uuid", "xmls:string"),
        ("integer", "xmls:integer"),
        ("float", "xmls:decimal"),
        ("decimal", "xmls:decimal"),
        ("boolean", "xmls:boolean"),
        ("date", "xmls:date"),
        ("datetime", "xmls:dateTime"),
        ("json", None),
    ],
)
def test_range_of_each_field_type(field_type: FieldType, expected: str | None) -> None:
    assert RANGES[field_type] == expected


def test_every_field_type_has_a_range_entry() -> None:
    assert set(RANGES) == set(FIELD_TYPES)


def _docs(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/docs.jsonld", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/ld+json; charset=utf-8"
    document: dict[str, Any] = response.json()
    return document


def _class(document: dict[str, Any], name: str) -> dict[str, Any]:
    (cls,) = [c for c in document["supportedClass"] if c["@id"] == f"#{name}"]
    return cls


def _properties(document: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    return {p["title"]: p for p in _class(document, name)["supportedProperty"]}


def test_documentation_document(client: httpx.Client) -> None:
    document = _docs(client)
    hydra, terms = document["@context"]
    assert hydra == hydra_context()
    assert terms["@vocab"] == f"{client.base_url}/docs.jsonld#"
    assert terms["hydra"] == "http://www.w3.org/ns/hydra/core#"
    assert terms["xmls"] == "http://www.w3.org/2001/XMLSchema#"
    for term in ("domain", "range", "subClassOf"):
        assert terms[term] == {"@id": f"rdfs:{term}", "@type": "@id"}
    assert document["@id"] == "/docs.jsonld"
    assert document["@type"] == "ApiDocumentation"
    assert document["title"] == CATALOG.api.title
    assert document["entrypoint"] == "/"
    assert [c["@id"] for c in document["supportedClass"]] == [
        *(f"#{r.name}" for r in CATALOG.resources),
        "#Entrypoint",
        "#ConstraintViolation",
        "#ConstraintViolationList",
    ]
    gadget = _class(document, "Gadget")
    assert (gadget["@type"], gadget["title"]) == ("Class", "Gadget")


def test_field_ranges_follow_field_types(client: httpx.Client) -> None:
    properties = _properties(_docs(client), "Gadget")
    gadget = CATALOG.resource("Gadget")
    assert list(properties) == [f.name for f in gadget.fields] + ["maker"]
    for field in gadget.fields:
        prop = properties[field.name]["property"]
        assert prop["@id"] == f"#Gadget/{field.name}"
        assert prop["@type"] == "rdf:Property"
        assert prop["domain"] == "#Gadget"
        assert prop["label"] == field.name
        assert prop.get("range") == RANGES[field.type], field.name
    assert properties["launchedAt"]["property"]["range"] == "xmls:dateTime"
    assert "range" not in properties["specs"]["property"]


def test_read_only_write_only_and_required_flags(client: httpx.Client) -> None:
    properties = _properties(_docs(client), "Gadget")
    flags = {name: (p["required"], p["readable"], p["writeable"]) for name, p in properties.items()}
    assert flags["name"] == (True, True, True)
    assert flags["notes"] == (False, True, True)
    assert flags["secret"] == (False, False, True)
    assert flags["code"] == (False, True, False)
    assert flags["active"] == (False, True, True)  # non-null, but has a default


def test_relations_are_links_to_their_target(client: httpx.Client) -> None:
    document = _docs(client)
    parts = _properties(document, "Part")
    for name, target, required in (("gadget", "Gadget", True), ("supplier", "Maker", False)):
        prop = parts[name]["property"]
        assert prop["@id"] == f"#Part/{name}"
        assert prop["@type"] == "Link"
        assert prop["range"] == f"#{target}"
        assert prop["owl:maxCardinality"] == 1
        assert parts[name]["required"] is required
    assert _properties(document, "Gadget")["maker"]["property"]["range"] == "#Maker"


def test_operations_are_those_enabled(client: httpx.Client) -> None:
    document = _docs(client)
    entrypoint = {
        p["property"]["@id"]: p["property"]["supportedOperation"]
        for p in _class(document, "Entrypoint")["supportedProperty"]
    }
    for resource in CATALOG.resources:
        name = resource.name
        key = name[:1].lower() + name[1:]
        operations = _class(document, name)["supportedOperation"] + entrypoint[f"#Entrypoint/{key}"]
        titles = sorted(op["title"] for op in operations)
        assert titles == sorted(TITLES[op].format(name) for op in resource.operations), name
    note = {op["method"]: op for op in _class(document, "Note")["supportedOperation"]}
    assert list(note) == ["GET"]
    assert note["GET"]["returns"] == "Note"
    gadget = {op["method"]: op for op in _class(document, "Gadget")["supportedOperation"]}
    assert gadget["PUT"]["expects"] == gadget["PUT"]["returns"] == "Gadget"
    assert gadget["PATCH"]["expectsHeader"][0]["possibleValue"] == ["application/merge-patch+json"]
    assert gadget["DELETE"]["returns"] == "owl:Nothing"
    collection = {op["method"]: op for op in entrypoint["#Entrypoint/gadget"]}
    assert collection["GET"]["returns"] == "Collection"
    assert collection["POST"]["expects"] == "Gadget"


def test_every_context_term_is_documented(client: httpx.Client) -> None:
    document = _docs(client)
    vocab = document["@context"][1]["@vocab"]
    documented = {vocab + c["@id"][1:] for c in document["supportedClass"]}
    for cls in document["supportedClass"]:
        documented |= {_absolute(vocab, p["property"]["@id"]) for p in cls["supportedProperty"]}
    for name in [r.name for r in CATALOG.resources] + ["Entrypoint"]:
        _hydra, context = client.get(f"/contexts/{name}").json()["@context"]
        assert context.pop("@vocab") == vocab
        context.pop("hydra")
        assert context, name
        for term, definition in context.items():
            iri = definition if isinstance(definition, str) else definition["@id"]
            assert _absolute(vocab, iri) in documented, (name, term)


def _absolute(vocab: str, iri: str) -> str:
    """A property IRI of the documentation or of a context, made absolute."""
    if iri.startswith("#"):
        return vocab + iri[1:]
    return iri if ":" in iri else vocab + iri


def test_api_responses_link_the_documentation(client: httpx.Client) -> None:
    docs = f"<{client.base_url}/docs.jsonld>; {DOCS_REL}"
    hub = f'<{client.base_url}/.well-known/mercure>; rel="mercure"'
    client.post("/makers", json={"name": "m"})
    responses = {
        "entrypoint": client.get("/"),
        "documentation": client.get("/docs.jsonld"),
        "context": client.get("/contexts/Maker"),
        "collection": client.get("/makers"),
        "item": client.get("/makers/1", headers={"Accept": "application/json"}),
        "not found": client.get("/makers/999"),
        "invalid": client.post("/makers", json={}),
        "not allowed": client.request("DELETE", "/makers"),
    }
    for what, response in responses.items():
        assert response.headers.get_list("link", split_commas=True) == [docs], what
    mercure = client.get("/gadgets")
    asyncapi = (
        f'<{client.base_url}/docs.asyncapi.json>; rel="describedby"; '
        'type="application/vnd.aai.asyncapi+json"'
    )
    assert mercure.headers.get_list("link", split_commas=True) == [docs, asyncapi, hub]
    assert "link" not in client.get("/nowhere").headers
