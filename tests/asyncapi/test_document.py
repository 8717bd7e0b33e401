"""The AsyncAPI 3.0 document: valid for the official parser, built from the resources file.

The parser (``@asyncapi/parser``, run by Node from ``tests/interop``) must accept the
document of the shipped bookshop and of a spec using every ``mercure`` option; the message
payloads are the OpenAPI document's own schemas; and a real update, read from a real SSE
stream after a REST write, validates against its message's schemas.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from ruamel.yaml import YAML

from app.asyncapi import build_document
from app.asyncapi.document import TokenRoute
from app.config import ResourcesSpec
from app.config.loader import load_text
from app.openapi import build_document as build_openapi
from tests.publish.gateway import ADMIN, JSON_LD, bookshop, start_gateway, token
from tests.publish.sse import Subscriber
from tests.services import LiveServer, unavailable

INTEROP = Path(__file__).resolve().parents[1] / "interop"
ORIGIN = "https://shop.example"
HUB = "https://shop.example/.well-known/mercure"

OPTIONS = """
resources:
  Author:
    fields:
      name: {type: string, required: true}
      slug: {type: string}
    mercure:
      topics: ['@iri', '/authors/{slug}', 'https://feeds.example/{+name}']
      id: 'urn:author:{id}'
      type: author
      retry: 2500
      include_type: true
  Note:
    fields:
      text: {type: text, groups: [public]}
      secret: {type: string, groups: [inside]}
    relations:
      author: {target: Author, groups: [public]}
    mercure: {private: true, normalization_groups: [public]}
  Ping:
    fields:
      n: {type: integer}
    mercure: {data: pong}
  Quiet:
    fields:
      n: {type: integer}
"""


def options_spec() -> ResourcesSpec:
    return load_text(OPTIONS, "options.yaml", {})


def document_of(spec: ResourcesSpec, **kwargs: Any) -> dict[str, Any]:
    hubs = {r.name: HUB for r in spec.resources if r.mercure.enabled}
    return build_document(spec, ORIGIN, hubs, **kwargs)


def parse_with_node(document: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The official parser's verdict on ``document`` (see ``asyncapi_validate.mjs``)."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js", "install Node 20 (Debian's nodejs package)")
    if not (INTEROP / "node_modules" / "@asyncapi" / "parser").is_dir():
        unavailable("@asyncapi/parser", "run `npm install --prefix tests/interop` (make test does)")
    assert node is not None
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [node, "asyncapi_validate.mjs", str(path)],
        cwd=INTEROP,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout, result.stderr
    verdict: dict[str, Any] = json.loads(result.stdout)
    verdict["status"] = result.returncode
    return verdict


@pytest.mark.parametrize("spec", [bookshop, options_spec], ids=["bookshop", "options"])
def test_the_official_parser_accepts_the_document(
    spec: Callable[[], ResourcesSpec], tmp_path: Path
) -> None:
    document = document_of(spec(), tokens=TokenRoute("/auth/mercure"))
    verdict = parse_with_node(document, tmp_path)
    assert verdict["errors"] == [], verdict
    assert verdict["warnings"] == [], verdict
    assert verdict["status"] == 0
    assert sorted(channel for channel, _ in verdict["channels"]) == sorted(document["channels"])


def test_the_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    """The check is real: a channel pointing at a server that does not exist is refused."""
    document = document_of(bookshop())
    document["channels"]["Book"]["servers"] = [{"$ref": "#/servers/nowhere"}]
    verdict = parse_with_node(document, tmp_path)
    assert verdict["status"] == 1
    assert verdict["errors"]


def test_payloads_are_the_openapi_schemas_themselves() -> None:
    spec = bookshop()
    asyncapi = document_of(spec)
    openapi = build_openapi(spec)
    for name in ("Book", "Book.jsonld", "Review", "Review.jsonld"):
        assert asyncapi["components"]["schemas"][name] == openapi["components"]["schemas"][name]
    saved = asyncapi["components"]["messages"]["Book.saved"]
    assert saved["payload"] == {"$ref": "#/components/schemas/Book.jsonld"}
    assert saved["contentType"] == "application/ld+json"
    deleted = asyncapi["components"]["messages"]["Book.deleted"]["payload"]
    assert deleted["required"] == ["@id"]
    assert set(deleted["properties"]) == {"@id"}


def test_the_hub_is_the_server_and_each_topic_template_a_channel() -> None:
    document = document_of(options_spec(), cookie_name="auth", tokens=TokenRoute("/auth/mercure"))
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"] == {
        "hub": {
            "host": "shop.example",
            "protocol": "mercure",
            "pathname": "/.well-known/mercure",
            "description": document["servers"]["hub"]["description"],
        }
    }
    channels = document["channels"]
    assert {name: c["address"] for name, c in channels.items()} == {
        "Author": "https://shop.example/authors/{id}",
        "Author.topic2": "https://shop.example/authors/{slug}",
        "Author.topic3": "https://feeds.example/{name}",
        "Note": "https://shop.example/notes/{id}",
        "Ping": "https://shop.example/pings/{id}",
    }
    assert set(channels["Author.topic3"]["parameters"]) == {"name"}
    assert "reserved" in channels["Author.topic3"]["parameters"]["name"]["description"]
    assert {name: c["x-mercure-private"] for name, c in channels.items()} == {
        "Author": False,
        "Author.topic2": False,
        "Author.topic3": False,
        "Note": True,
        "Ping": False,
    }
    operations = document["operations"]
    assert "security" in operations["Note.published"]
    assert "security" not in operations["Author.published"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["bearer"]["bearerFormat"] == "JWT"
    assert schemes["cookie"] == {**schemes["cookie"], "in": "cookie", "name": "auth"}
    assert "/auth/mercure" in schemes["bearer"]["description"]
    assert "/auth/mercure" in document["info"]["description"]


def test_publishing_options_are_reflected_in_the_messages() -> None:
    messages = document_of(options_spec())["components"]["messages"]
    headers = messages["Author.saved"]["headers"]["properties"]
    assert headers["event"]["const"] == "author"
    assert headers["retry"]["const"] == 2500
    assert "urn:author:{id}" in headers["id"]["description"]
    deleted = messages["Author.deleted"]["payload"]
    assert deleted["required"] == ["@id", "@type"]
    assert deleted["properties"]["@type"]["const"] == "Author"
    assert messages["Ping.saved"]["payload"] == {"type": "string", "const": "pong"}
    assert "event" not in messages["Ping.saved"]["headers"]["properties"]
    grouped = messages["Note.saved"]["payload"]
    assert set(grouped["properties"]) == {"@context", "@id", "@type", "id", "text", "author"}
    assert grouped["additionalProperties"] is False


def test_the_document_is_served_as_json_and_yaml_and_linked(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    gateway = start_gateway(serve, tmp_path / "db.sqlite")
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        served = client.get("/docs.asyncapi.json")
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/json"
        document = served.json()
        assert document["channels"]["Book"]["address"] == f"{gateway.url}/books/{{id}}"
        assert document["servers"]["hub"]["host"] == gateway.url.removeprefix("http://")
        again = client.get("/docs.asyncapi.json", headers={"If-None-Match": served.headers["etag"]})
        assert again.status_code == 304
        for answer in (
            client.get("/docs.asyncapi.yaml"),
            client.get("/docs.asyncapi.json", headers={"Accept": "application/yaml"}),
        ):
            assert answer.status_code == 200
            assert "yaml" in answer.headers["content-type"]
            assert YAML(typ="safe").load(answer.text) == document
        books = client.get("/books")
        asyncapi_link = (
            f'<{gateway.url}/docs.asyncapi.json>; rel="describedby"; '
            'type="application/vnd.aai.asyncapi+json"'
        )
        assert asyncapi_link in books.headers.get_list("link", split_commas=True)
        swagger = client.get("/docs", headers={"Accept": "text/html"})
        assert 'href="/docs/asyncapi"' in swagger.text
        # PUBLIC_URL is set: a request's Host moves neither the topics nor the hub.
        foreign = client.get("/docs.asyncapi.json", headers={"Host": "evil.example"}).json()
        assert foreign["servers"] == document["servers"]
        assert foreign["channels"] == document["channels"]


def validate(document: dict[str, Any], pointer: str, instance: object) -> None:
    """Validate ``instance`` against the schema at ``pointer`` inside ``document``."""
    root = {**document, "$ref": pointer}
    jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(instance)


def test_real_updates_validate_against_their_message_schemas(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    gateway = start_gateway(serve, tmp_path / "db.sqlite")
    document = httpx.get(f"{gateway.url}/docs.asyncapi.json", timeout=10).json()
    address = document["channels"]["Book"]["address"]
    with (
        Subscriber(gateway.hub_url, [address], token=token(subscribe=["*"])) as subscriber,
        httpx.Client(base_url=gateway.url, timeout=10) as client,
    ):
        created = client.post(
            "/books",
            json={"title": "Dune", "author": "Frank Herbert", "publicationDate": "1965-08-01"},
            headers={**JSON_LD, **ADMIN},
        )
        assert created.status_code == 201, created.text
        saved = subscriber.next()
        assert client.delete(created.json()["@id"], headers=ADMIN).status_code == 204
        deleted = subscriber.next()
    messages = "#/components/messages"
    validate(document, f"{messages}/Book.saved/payload", json.loads(saved.data))
    validate(document, f"{messages}/Book.saved/headers", {"id": saved.id})
    assert json.loads(saved.data)["title"] == "Dune"
    validate(document, f"{messages}/Book.deleted/payload", json.loads(deleted.data))
    validate(document, f"{messages}/Book.deleted/headers", {"id": deleted.id})
    with pytest.raises(jsonschema.ValidationError):
        validate(document, f"{messages}/Book.deleted/payload", json.loads(saved.data))
