"""Accept and Content-Type negotiation."""

from __future__ import annotations

import httpx
import pytest
from werkzeug.test import EnvironBuilder

from app.api.negotiation import document_response


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/ld+json; charset=utf-8"),
        ("*/*", "application/ld+json; charset=utf-8"),
        ("application/ld+json", "application/ld+json; charset=utf-8"),
        ("application/json", "application/json; charset=utf-8"),
        ("application/json, application/ld+json;q=0.5", "application/json; charset=utf-8"),
        ("text/html;q=0.9, application/*;q=0.8", "application/ld+json; charset=utf-8"),
    ],
)
def test_accept_selects_the_representation(
    client: httpx.Client, accept: str | None, content_type: str
) -> None:
    client.post("/gadgets", json={"name": "x"})
    headers = {"Accept": accept} if accept else {}
    for path in ("/gadgets", "/gadgets/1"):
        request = client.build_request("GET", path, headers=headers)
        if accept is None:
            del request.headers["Accept"]
        response = client.send(request)
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("accept", ["text/html", "text/csv", "application/xml", "image/*"])
def test_other_accepts_are_406_on_every_operation(client: httpx.Client, accept: str) -> None:
    client.post("/gadgets", json={"name": "x"})
    headers = {"Accept": accept}
    assert client.get("/gadgets", headers=headers).status_code == 406
    assert client.get("/gadgets/1", headers=headers).status_code == 406
    assert client.post("/gadgets", json={"name": "y"}, headers=headers).status_code == 406
    assert client.put("/gadgets/1", json={"name": "y"}, headers=headers).status_code == 406
    assert client.get("/gadgets/1").json()["name"] == "x"


def test_errors_of_negotiated_requests_vary_with_accept(client: httpx.Client) -> None:
    """What a cache stores for a resource's URL depends on Accept, errors included (a 404
    there is a 406 for another Accept); a URL nothing serves answers alike to every Accept."""
    for path, accept, status in (
        ("/gadgets/999", "application/ld+json", 404),
        ("/gadgets/999", "text/csv", 406),
        ("/gadgets?page=0", "application/json", 400),
    ):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == status
        assert response.headers["vary"] == "Accept", (path, accept)
    unrouted = client.get("/nothing-here", headers={"Accept": "application/ld+json"})
    assert unrouted.status_code == 404
    assert "vary" not in unrouted.headers


@pytest.mark.parametrize("content_type", ["application/json", "application/ld+json; charset=utf-8"])
def test_post_accepts_json_and_json_ld(client: httpx.Client, content_type: str) -> None:
    response = client.post(
        "/gadgets", content=b'{"name": "n"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201


def test_post_answers_plain_json_when_asked(client: httpx.Client) -> None:
    response = client.post("/gadgets", json={"name": "n"}, headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert response.headers["location"] == "/gadgets/1"
    assert response.json()["id"] == 1
    assert "@id" not in response.json()


def test_head_and_options(client: httpx.Client) -> None:
    head = client.head("/gadgets")
    assert head.status_code == 200
    assert head.content == b""
    options = client.options("/gadgets/1")
    assert {"GET", "PUT", "PATCH", "DELETE"} <= {
        m.strip() for m in options.headers["allow"].split(",")
    }


def test_document_headers_are_sent_as_given_or_corrected_by_werkzeug() -> None:
    """A document response skips Werkzeug's last header pass only where it would change
    nothing: ASCII locations and a 200 or 201; otherwise the pass runs as for any response."""
    environ = EnvironBuilder("/things", base_url="http://api.example").get_environ()
    created = document_response({}, "jsonld", 201, {"Location": "/things/1"})
    assert created.get_wsgi_headers(environ) is created.headers
    assert created.headers["Content-Length"] == "2"

    unicode = document_response({}, "jsonld", 201, {"Location": "/bücher/1"})
    sent = unicode.get_wsgi_headers(environ)
    assert sent["Location"] == "/b%C3%BCcher/1"

    for status in (204, 304):
        hooked = document_response({}, "jsonld")
        hooked.status_code = status  # as an after_request hook may set it
        sent = hooked.get_wsgi_headers(environ)
        assert sent is not hooked.headers
        assert "Content-Length" not in sent
