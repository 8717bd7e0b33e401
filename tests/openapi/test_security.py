"""Security in the document: the bearer scheme, secured operations, ``GET /auth/mercure``.

The document is checked against the spec's rules, then against what a real gateway
answers: denials and subscriber tokens conform to the schemas the document names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from app import create_app
from app.auth import AuthSettings
from app.auth.command import mint_user_token
from app.config.loader import load_text
from app.config.spec import ResourcesSpec
from app.hub.settings import HubSettings
from app.openapi import SubscriberTokenRoute, build_document, downgrade
from app.settings import Settings
from tests.openapi.specs import EVERYTHING
from tests.services import LiveServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "openapi-security-tests-key-of-32-bytes!"
BEARER = [{"bearerAuth": []}]
TOKENS = SubscriberTokenRoute("/auth/mercure", "hubCookie", "/.well-known/mercure")

SECURED = """
resources:
  Note:
    fields:
      text: {type: text}
      owner: {type: string}
    owner: owner
    security:
      rule: "is_granted('admin') or object.owner == user.id"
      message: Only the owner may see or change a note.
      operations:
        get_collection: {rule: "is_authenticated()", message: Sign in first.}
        post: "is_authenticated()"
        delete: public
  Memo:
    fields:
      text: {type: text}
      by: {type: string}
    owner: by
    operations: [get_collection, post, get]
    security:
      rule: "object.by == user.id"
      operations:
        get_collection: public
        post: public
  Tag:
    fields:
      name: {type: string}
    operations: [get_collection, post]
"""


@pytest.fixture(scope="module")
def secured() -> ResourcesSpec:
    return load_text(SECURED, "resources.yaml", {})


@pytest.fixture(scope="module")
def document(secured: ResourcesSpec) -> dict[str, Any]:
    return build_document(secured)


def _error_ref(document: dict[str, Any], path: str, method: str, status: str) -> str | None:
    response = document["paths"][path][method]["responses"].get(status)
    return None if response is None else str(response["$ref"]).rsplit("/", 1)[1]


OPTIONAL = [{"bearerAuth": []}, {}]


@pytest.mark.parametrize(
    ("path", "method", "security", "denials"),
    [
        ("/notes", "get", BEARER, {"401", "403"}),  # its own rule
        ("/notes", "post", BEARER, {"401", "403"}),  # its own rule, without a message
        ("/notes/{id}", "get", BEARER, {"401", "403"}),  # the default rule
        ("/notes/{id}", "put", BEARER, {"401", "403"}),
        ("/notes/{id}", "patch", BEARER, {"401", "403"}),
        ("/notes/{id}", "delete", None, set()),  # public
        # Public, but the answer depends on the user: the creator owns the memo...
        ("/memos", "post", BEARER, {"401"}),
        # ... and the collection lists what the read rule lets the user see.
        ("/memos", "get", OPTIONAL, {"401"}),
        ("/memos/{id}", "get", BEARER, {"401", "403"}),
        ("/tags", "get", None, set()),  # no rule at all
        ("/tags", "post", None, set()),
    ],
)
def test_operations_that_read_a_token_declare_the_bearer_scheme(
    document: dict[str, Any],
    path: str,
    method: str,
    security: list[dict[str, list[str]]] | None,
    denials: set[str],
) -> None:
    operation = document["paths"][path][method]
    assert operation.get("security") == security
    assert {"401", "403"} & set(operation["responses"]) == denials
    names = {"401": "Unauthorized", "403": "Forbidden"}
    for status in denials:
        assert _error_ref(document, path, method, status) == names[status]


def test_the_document_sets_no_requirement_of_its_own(document: dict[str, Any]) -> None:
    assert "security" not in document


def test_the_bearer_scheme_is_declared_when_a_rule_exists(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert {k: scheme[k] for k in ("type", "scheme", "bearerFormat")} == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_a_spec_without_rules_declares_no_scheme_and_no_denials() -> None:
    document = build_document(EVERYTHING)
    assert "securitySchemes" not in document["components"]
    assert not {"Unauthorized", "Forbidden"} & set(document["components"]["responses"])
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                assert "security" not in operation


def test_denials_are_problem_json_and_401_carries_the_challenge(
    document: dict[str, Any],
) -> None:
    responses = document["components"]["responses"]
    for name in ("Unauthorized", "Forbidden"):
        content = responses[name]["content"]
        assert content == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Error"}}
        }
    assert "WWW-Authenticate" in responses["Unauthorized"]["headers"]


@pytest.mark.parametrize("tokens", [None, TOKENS], ids=["without-tokens", "with-tokens"])
def test_secured_documents_are_valid_in_both_versions(
    secured: ResourcesSpec, tokens: SubscriberTokenRoute | None
) -> None:
    document = build_document(secured, subscriber_tokens=tokens)
    OpenAPIV31SpecValidator(document).validate()
    OpenAPIV30SpecValidator(downgrade(document)).validate()
    assert (
        downgrade(document)["components"]["securitySchemes"]
        == (document["components"]["securitySchemes"])
    )


def test_subscriber_tokens_are_documented_when_served() -> None:
    document = build_document(EVERYTHING, subscriber_tokens=TOKENS)
    OpenAPIV31SpecValidator(document).validate()
    operation = document["paths"]["/auth/mercure"]["get"]
    assert set(operation["responses"]) == {"200", "400", "401"}
    assert operation["parameters"][0]["name"] == "protocol"
    assert operation["security"] == BEARER
    assert "bearerAuth" in document["components"]["securitySchemes"]
    ok = operation["responses"]["200"]
    cookie = ok["headers"]["Set-Cookie"]["description"]
    assert "hubCookie=" in cookie
    assert "Path=/.well-known/mercure" in cookie
    assert "HttpOnly" in cookie
    schema_name = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][schema_name]
    assert set(schema["required"]) == {"token", "subscribe", "expiresAt"}
    assert schema["properties"]["subscribe"]["type"] == "array"
    assert schema["properties"]["expiresAt"]["format"] == "date-time"
    assert _error_ref(document, "/auth/mercure", "get", "401") == "Unauthorized"


def test_subscriber_tokens_are_absent_unless_served(document: dict[str, Any]) -> None:
    assert "/auth/mercure" not in document["paths"]


# A real gateway: the document it serves, and its answers against that document.


def _gateway(tmp_path: Path, auth: AuthSettings, spec: ResourcesSpec | None = None) -> Any:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        resources_path=ROOT / "resources.yaml",
    )
    app = create_app(
        settings,
        spec=spec,
        hub_settings=HubSettings(publisher_key=KEY, subscriber_key=KEY, heartbeat=0),
        auth_settings=auth,
        environ={},
    )
    with app.app_context():
        app.extensions["model_registry"].db.create_all()
    return app


def _check(document: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    described = document["paths"][path][method]["responses"][str(response.status_code)]
    if "$ref" in described:
        described = document["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in described["content"], (media_type, list(described["content"]))
    schema = {**described["content"][media_type]["schema"], "components": document["components"]}
    OAS31Validator(schema).validate(response.json())
    for header in described.get("headers", {}):
        assert header in response.headers, header


def test_a_gateway_answers_as_its_document_says(
    tmp_path: Path, serve: Callable[..., LiveServer]
) -> None:
    live = serve(_gateway(tmp_path, AuthSettings(key=KEY)))
    reader = mint_user_token(KEY, "HS256", "reader", expires_in=600)
    admin = mint_user_token(KEY, "HS256", "root", ("admin",), expires_in=600)
    with httpx.Client(base_url=live.url) as client:
        document = client.get("/docs.json").json()
        OpenAPIV31SpecValidator(document).validate()
        assert "/auth/mercure" in document["paths"]
        ld = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}
        book = {"title": "Dune", "author": "F. H."}

        anonymous = client.post("/books", json=book, headers=ld)
        assert anonymous.status_code == 401
        _check(document, "/books", "post", anonymous)
        forbidden = client.post(
            "/books", json=book, headers={**ld, "Authorization": f"Bearer {reader}"}
        )
        assert forbidden.status_code == 403
        _check(document, "/books", "post", forbidden)
        created = client.post(
            "/books", json=book, headers={**ld, "Authorization": f"Bearer {admin}"}
        )
        assert created.status_code == 201
        _check(document, "/books", "post", created)
        assert "security" not in document["paths"]["/books"]["get"]
        _check(document, "/books", "get", client.get("/books", headers=ld))

        refused = client.get("/auth/mercure")
        assert refused.status_code == 401
        _check(document, "/auth/mercure", "get", refused)
        issued = client.get("/auth/mercure", headers={"Authorization": f"Bearer {reader}"})
        assert issued.status_code == 200
        _check(document, "/auth/mercure", "get", issued)


def test_optional_tokens_and_owned_creates_answer_as_documented(
    tmp_path: Path, serve: Callable[..., LiveServer], secured: ResourcesSpec
) -> None:
    live = serve(_gateway(tmp_path, AuthSettings(key=KEY), secured))
    alice = mint_user_token(KEY, "HS256", "alice", expires_in=600)
    untrusted = mint_user_token("another-key-of-at-least-32-bytes-long!", "HS256", "alice")
    ld = {"Content-Type": "application/ld+json", "Accept": "application/ld+json"}
    with httpx.Client(base_url=live.url) as client:
        document = client.get("/docs.json").json()

        anonymous_create = client.post("/memos", json={"text": "hi"}, headers=ld)
        assert anonymous_create.status_code == 401
        _check(document, "/memos", "post", anonymous_create)
        created = client.post(
            "/memos", json={"text": "hi"}, headers={**ld, "Authorization": f"Bearer {alice}"}
        )
        assert created.status_code == 201
        _check(document, "/memos", "post", created)

        anonymous_list = client.get("/memos", headers=ld)
        assert anonymous_list.status_code == 200
        assert anonymous_list.json()["totalItems"] == 0
        _check(document, "/memos", "get", anonymous_list)
        own_list = client.get("/memos", headers={**ld, "Authorization": f"Bearer {alice}"})
        assert own_list.json()["totalItems"] == 1
        refused = client.get("/memos", headers={**ld, "Authorization": f"Bearer {untrusted}"})
        assert refused.status_code == 401
        _check(document, "/memos", "get", refused)


def test_a_gateway_without_authentication_does_not_offer_subscriber_tokens(
    tmp_path: Path, serve: Callable[..., LiveServer]
) -> None:
    live = serve(_gateway(tmp_path, AuthSettings()))
    document = httpx.get(f"{live.url}/docs.json").json()
    assert "/auth/mercure" not in document["paths"]
    assert httpx.get(f"{live.url}/auth/mercure").status_code == 404
    # The rules are still documented: they exist whether or not anyone can sign in.
    assert document["paths"]["/books"]["post"]["security"] == BEARER
