"""Accept and Content-Type negotiation."""

from __future__ import annotations

import httpx
import pytest


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
