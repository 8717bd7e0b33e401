"""Page arithmetic (pure) and the collection's ``view`` links through HTTP."""

from __future__ import annotations

import httpx
import pytest
from werkzeug.datastructures import MultiDict

from app.api.pagination import Page, requested_page, view
from app.config.spec import PaginationSpec
from app.errors import BadRequest

SPEC = PaginationSpec(items_per_page=3, maximum_items_per_page=5)


@pytest.mark.parametrize(
    ("spec", "args", "expected"),
    [
        (SPEC, {}, Page(1, 3)),
        (SPEC, {"page": "2"}, Page(2, 3)),
        (SPEC, {"itemsPerPage": "4"}, Page(1, 4)),
        (SPEC, {"itemsPerPage": "500"}, Page(1, 5)),
        (
            PaginationSpec(items_per_page=3, client_items_per_page=False),
            {"itemsPerPage": "1"},
            Page(1, 3),
        ),
        (PaginationSpec(enabled=False), {"page": "2"}, None),
    ],
)
def test_requested_page(spec: PaginationSpec, args: dict[str, str], expected: Page | None) -> None:
    assert requested_page(spec, MultiDict(args)) == expected


@pytest.mark.parametrize(
    "args",
    [{"page": "0"}, {"page": "-1"}, {"page": "x"}, {"itemsPerPage": "0"}, {"itemsPerPage": "1.5"}],
)
def test_invalid_page_parameters(args: dict[str, str]) -> None:
    with pytest.raises(BadRequest) as raised:
        requested_page(SPEC, MultiDict(args))
    assert next(iter(args)) in raised.value.detail


FILTERED = [("q", "a b"), ("page", "7")]


@pytest.mark.parametrize(
    ("args", "page", "total", "links"),
    [
        ([], Page(1, 3), 3, None),
        ([], Page(1, 3), 0, None),
        ([("page", "1")], Page(1, 3), 2, None),
        ([("page", "2")], Page(2, 3), 2, None),
        (FILTERED, Page(1, 3), 2, {}),
        (FILTERED, Page(1, 3), 4, {"first": 1, "last": 2, "next": 2}),
        (FILTERED, Page(2, 3), 7, {"first": 1, "last": 3, "previous": 1, "next": 3}),
        (FILTERED, Page(3, 3), 7, {"first": 1, "last": 3, "previous": 2}),
        (FILTERED, Page(9, 3), 7, {"first": 1, "last": 3, "previous": 8}),
        ([("page", "2")], Page(2, 3), 4, {"first": 1, "last": 2, "previous": 1}),
    ],
)
def test_view_links_as_api_platform_builds_them(
    args: list[tuple[str, str]], page: Page, total: int, links: dict[str, int] | None
) -> None:
    document = view("/things", MultiDict(args), page, total)
    if links is None:
        assert document is None
        return
    assert document is not None
    assert document["@type"] == "PartialCollectionView"
    prefix = "/things?q=a+b" if ("q", "a b") in args else "/things"
    if not links:  # one page, filtered: the filtered collection, no page links
        assert document == {"@id": prefix, "@type": "PartialCollectionView"}
        return
    separator = "&" if "?" in prefix else "?"
    assert document["@id"] == f"{prefix}{separator}page={page.number}"
    expected = {key: f"{prefix}{separator}page={n}" for key, n in links.items()}
    assert {k: v for k, v in document.items() if not k.startswith("@")} == expected


def _seed(client: httpx.Client, count: int) -> None:
    for i in range(count):
        assert (
            client.post("/gadgets", json={"name": f"G{i}", "active": i % 2 == 0}).status_code == 201
        )


def test_collection_pages_through_http(client: httpx.Client) -> None:
    _seed(client, 4)
    first = client.get("/gadgets").json()
    assert first["@id"] == "/gadgets"
    assert first["@type"] == "Collection"
    assert first["@context"] == "/contexts/Gadget"
    assert first["totalItems"] == 4
    assert [m["name"] for m in first["member"]] == ["G0", "G1", "G2"]
    assert first["member"][0]["@id"] == "/gadgets/1"
    assert "@context" not in first["member"][0]
    assert first["view"] == {
        "@id": "/gadgets?page=1",
        "@type": "PartialCollectionView",
        "first": "/gadgets?page=1",
        "last": "/gadgets?page=2",
        "next": "/gadgets?page=2",
    }
    second = client.get(first["view"]["next"]).json()
    assert [m["name"] for m in second["member"]] == ["G3"]
    assert second["totalItems"] == 4
    assert second["view"]["previous"] == "/gadgets?page=1"
    assert "next" not in second["view"]
    beyond = client.get("/gadgets?page=9").json()
    assert (beyond["member"], beyond["totalItems"]) == ([], 4)


def test_items_per_page_is_capped_and_kept_with_filters(client: httpx.Client) -> None:
    _seed(client, 7)
    capped = client.get("/gadgets?itemsPerPage=100").json()
    assert len(capped["member"]) == 5
    assert capped["view"]["last"] == "/gadgets?itemsPerPage=100&page=2"
    filtered = client.get("/gadgets?active=true&itemsPerPage=1&page=2").json()
    assert filtered["totalItems"] == 4
    assert [m["name"] for m in filtered["member"]] == ["G2"]
    assert filtered["view"]["next"] == "/gadgets?active=true&itemsPerPage=1&page=3"
    assert filtered["view"]["previous"] == "/gadgets?active=true&itemsPerPage=1&page=1"


def test_single_page_collection_has_a_view_only_when_filtered(client: httpx.Client) -> None:
    _seed(client, 2)
    for query in ("", "?page=1"):
        body = client.get(f"/gadgets{query}").json()
        assert body["totalItems"] == 2
        assert "view" not in body
    filtered = client.get("/gadgets?active=true&page=1").json()
    assert filtered["totalItems"] == 1
    assert filtered["view"] == {"@id": "/gadgets?active=true", "@type": "PartialCollectionView"}


@pytest.mark.parametrize("query", ["page=0", "page=abc", "itemsPerPage=-3", "itemsPerPage=x"])
def test_invalid_paging_is_400(client: httpx.Client, query: str) -> None:
    response = client.get(f"/gadgets?{query}")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_plain_json_collection_is_a_bare_list(client: httpx.Client) -> None:
    _seed(client, 4)
    body = client.get("/gadgets?page=2", headers={"Accept": "application/json"}).json()
    assert [item["name"] for item in body] == ["G3"]
    assert "@id" not in body[0]
