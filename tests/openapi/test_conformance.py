"""What the REST API really answers conforms to the document it publishes.

The shipped bookshop runs on a real gevent server; real responses (items, collections,
errors) are validated against the schemas ``/docs.json`` names for that operation and
status, with an OpenAPI 3.1 schema validator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS31Validator

from app import create_app
from app.auth.command import mint_user_token
from app.settings import Settings
from tests.services import LiveServer

ROOT = Path(__file__).resolve().parents[2]
USER_KEY = "conformance-tests-only-users-key-of-at-least-32-bytes"
"""The gateway's ``AUTH_JWT_KEY``: users' tokens are signed with it."""


def bearer(subject: str, *roles: str) -> dict[str, str]:
    """The ``Authorization`` header of a user's token, minted as ``flask auth token`` does."""
    token = mint_user_token(USER_KEY, "HS256", subject, roles, expires_in=3600)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(tmp_path: Path, serve: Callable[..., LiveServer]) -> Iterator[httpx.Client]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'db.sqlite'}",
        resources_path=ROOT / "resources.yaml",
    )
    application = create_app(settings, environ={"AUTH_JWT_KEY": USER_KEY})
    with application.app_context():
        application.extensions["model_registry"].db.create_all()
    with httpx.Client(base_url=serve(application).url) as client:
        yield client


def _check(document: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    """Validate ``response`` against the document's description of it."""
    described = document["paths"][path][method]["responses"][str(response.status_code)]
    if "$ref" in described:
        described = document["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in described["content"], (media_type, list(described["content"]))
    schema = {**described["content"][media_type]["schema"], "components": document["components"]}
    OAS31Validator(schema).validate(response.json())


def test_responses_match_the_document(api: httpx.Client) -> None:
    document = api.get("/docs.json").json()
    # The catalogue is written by an administrator, the review by its author.
    admin, reader = bearer("admin", "admin"), bearer("Reader")
    ld = {"Accept": "application/ld+json", "Content-Type": "application/ld+json"}
    plain = {"Accept": "application/json", "Content-Type": "application/json"}
    book = {
        "isbn": "9781234567897",
        "title": "The Mercure Book",
        "author": "A. Writer",
        "publicationDate": "2024-05-01",
    }

    created = api.post("/books", json=book, headers={**ld, **admin})
    assert created.status_code == 201, created.text
    _check(document, "/books", "post", created)
    iri = created.headers["Location"]
    review = {"rating": 4, "body": "Good.", "author": "Reader", "book": iri}
    posted_review = api.post("/reviews", json=review, headers={**plain, **reader})
    assert posted_review.status_code == 201, posted_review.text
    _check(document, "/reviews", "post", posted_review)

    _check(document, "/books/{id}", "get", api.get(iri, headers=ld))
    _check(document, "/books/{id}", "get", api.get(iri, headers=plain))
    _check(document, "/books", "get", api.get("/books", params={"page": 1}, headers=ld))
    _check(document, "/books", "get", api.get("/books", headers=plain))
    reviews = api.get("/reviews", params={"rating[gt]": 1}, headers={**ld, **reader})
    _check(document, "/reviews", "get", reviews)
    patched = api.patch(
        iri,
        json={"description": None},
        headers={
            "Content-Type": "application/merge-patch+json",
            "Accept": "application/ld+json",
            **admin,
        },
    )
    _check(document, "/books/{id}", "patch", patched)

    # Errors: every one is problem+json in the documented shape.
    invalid = api.post("/reviews", json={**review, "rating": 9}, headers={**ld, **reader})
    assert invalid.status_code == 422
    _check(document, "/reviews", "post", invalid)
    missing = api.get("/books/999999", headers=ld)
    assert missing.status_code == 404
    _check(document, "/books/{id}", "get", missing)
    malformed = api.post("/books", content=b"{not json", headers={**ld, **admin})
    assert malformed.status_code == 400
    _check(document, "/books", "post", malformed)
    wrong_type = api.post(
        "/books", content=b"title=x", headers={"Content-Type": "text/plain", **admin}
    )
    assert wrong_type.status_code == 415
    _check(document, "/books", "post", wrong_type)
    unacceptable = api.get(iri, headers={"Accept": "application/xml"})
    assert unacceptable.status_code == 406
    _check(document, "/books/{id}", "get", unacceptable)
    anonymous = api.post("/books", json=book, headers=ld)
    assert anonymous.status_code == 401
    _check(document, "/books", "post", anonymous)
    forbidden = api.post("/books", json=book, headers={**ld, **reader})
    assert forbidden.status_code == 403
    _check(document, "/books", "post", forbidden)
    duplicate = api.post("/books", json=book, headers={**ld, **admin})
    assert duplicate.status_code in (409, 422)
    _check(document, "/books", "post", duplicate)

    deleted = api.delete(iri, headers=admin)
    assert deleted.status_code == 204
    assert "204" in document["paths"]["/books/{id}"]["delete"]["responses"]
