"""Discovery ``Link`` headers (Mercure hub, Hydra documentation) and CORS headers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from tests.api.conftest import AppFactory
from tests.api.specs import CATALOG
from tests.publish.gateway import build_app, start_gateway
from tests.services import LiveServer

REL = 'rel="mercure"'
DOCS_REL = 'rel="http://www.w3.org/ns/hydra/core#apiDocumentation"'
ASYNCAPI_REL = 'rel="describedby"; type="application/vnd.aai.asyncapi+json"'


def _links(response: httpx.Response) -> list[str]:
    """The response's ``Link`` values, whether on one header line or several."""
    return response.headers.get_list("link", split_commas=True)


def test_mercure_resources_advertise_the_hub_on_every_response(client: httpx.Client) -> None:
    docs = f"<{client.base_url}/docs.jsonld>; {DOCS_REL}"
    expected = f'<{client.base_url}/.well-known/mercure>; rel="mercure"'
    asyncapi = f"<{client.base_url}/docs.asyncapi.json>; {ASYNCAPI_REL}"
    responses = [
        client.post("/gadgets", json={"name": "x"}),
        client.get("/gadgets"),
        client.get("/gadgets/1"),
        client.patch(
            "/gadgets/1", json={}, headers={"Content-Type": "application/merge-patch+json"}
        ),
        client.get("/gadgets/999"),
        client.post("/gadgets", json={}),
        client.delete("/gadgets/1"),
        client.request("DELETE", "/gadgets"),
    ]
    for response in responses:
        assert _links(response) == [docs, asyncapi, expected], response.request


def test_resources_without_mercure_advertise_nothing(client: httpx.Client) -> None:
    docs = f"<{client.base_url}/docs.jsonld>; {DOCS_REL}"
    for response in (client.get("/makers"), client.post("/makers", json={"name": "m"})):
        assert _links(response) == [docs]
    assert _links(client.get("/")) == [docs]


@pytest.mark.parametrize(
    ("hub_url", "expected"),
    [
        (
            "https://hub.example.com/.well-known/mercure",
            "https://hub.example.com/.well-known/mercure",
        ),
        ("hub", "{root}/hub"),
        (None, None),
    ],
)
def test_hub_url_forms(
    make_app: AppFactory,
    serve: Callable[..., LiveServer],
    hub_url: str | None,
    expected: str | None,
) -> None:
    app, _registry = make_app(CATALOG, hub_url=hub_url)
    live = serve(app)
    response = httpx.get(f"{live.url}/gadgets")
    docs = f"<{live.url}/docs.jsonld>; {DOCS_REL}"
    if expected is None:
        assert _links(response) == [docs]
    else:
        asyncapi = f"<{live.url}/docs.asyncapi.json>; {ASYNCAPI_REL}"
        hub = f"<{expected.format(root=live.url)}>; {REL}"
        assert _links(response) == [docs, asyncapi, hub]


def test_cors_exposes_link_to_allowed_origins(
    make_app: AppFactory, serve: Callable[..., LiveServer]
) -> None:
    app, _registry = make_app(
        CATALOG,
        hub_url="/.well-known/mercure",
        CORS_ALLOWED_ORIGINS="https://app.example.com, https://other.example.com",
    )

    @app.get("/.well-known/mercure")
    def hub() -> str:
        return "hub"

    live = serve(app)
    origin = {"Origin": "https://app.example.com"}
    allowed = httpx.get(f"{live.url}/gadgets", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "Link" in allowed.headers["access-control-expose-headers"]
    assert allowed.headers.get_list("vary") == ["Accept, Origin"]  # one line, each name once
    preflight = httpx.options(
        f"{live.url}/gadgets",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Content-Type" in preflight.headers["access-control-allow-headers"]
    denied = httpx.get(f"{live.url}/gadgets", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in denied.headers
    hub_response = httpx.get(f"{live.url}/.well-known/mercure", headers=origin)
    assert "access-control-allow-origin" not in hub_response.headers
    assert "link" not in hub_response.headers


def test_cors_wildcard(make_app: AppFactory, serve: Callable[..., LiveServer]) -> None:
    app, _registry = make_app(CATALOG, CORS_ALLOWED_ORIGINS="*")
    live = serve(app)
    response = httpx.get(f"{live.url}/makers", headers={"Origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_public_url_roots_the_links_whatever_the_host(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """With ``PUBLIC_URL`` set, as for the topics, a request's ``Host`` cannot move the
    advertised documentation, AsyncAPI document and hub (a shared cache would keep them),
    nor the documentation's IRI in the contexts."""
    gateway = start_gateway(serve, tmp_path / "links.db")
    root = gateway.url  # the gateway's PUBLIC_URL
    expected = [
        f"<{root}/docs.jsonld>; {DOCS_REL}",
        f"<{root}/docs.asyncapi.json>; {ASYNCAPI_REL}",
        f"<{root}/.well-known/mercure>; {REL}",
    ]
    for host in (None, "evil.example", "evil.example:8443"):
        headers = {} if host is None else {"Host": host}
        response = httpx.get(f"{root}/books", headers=headers)
        assert response.status_code == 200
        assert _links(response) == expected, host
        _hydra, context = httpx.get(f"{root}/contexts/Book", headers=headers).json()["@context"]
        assert context["@vocab"] == f"{root}/docs.jsonld#", host


def test_a_script_root_outside_ascii_is_linked_percent_encoded(
    make_app: AppFactory, serve: Callable[..., LiveServer]
) -> None:
    """Behind a proxy that mounts the API under ``/café`` (``X-Forwarded-Prefix``, read by
    Werkzeug's ``ProxyFix``), the links carry the prefix as a URI: a header value cannot
    hold the IRI that Werkzeug's root URL is."""
    app, _registry = make_app(CATALOG, hub_url="/.well-known/mercure")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    live = serve(app)
    root = f"{live.url}/caf%C3%A9"
    response = httpx.get(f"{live.url}/gadgets", headers={"X-Forwarded-Prefix": "/caf%C3%A9"})
    assert response.status_code == 200
    assert _links(response) == [
        f"<{root}/docs.jsonld>; {DOCS_REL}",
        f"<{root}/docs.asyncapi.json>; {ASYNCAPI_REL}",
        f"<{root}/.well-known/mercure>; {REL}",
    ]


def test_a_host_werkzeug_refuses_leaves_the_links_relative(client: httpx.Client) -> None:
    for host in ("a>b", "a,b", "a;b"):
        response = client.get("/gadgets", headers={"Host": host})
        assert _links(response) == [
            f"</docs.jsonld>; {DOCS_REL}",
            f"</docs.asyncapi.json>; {ASYNCAPI_REL}",
            f"</.well-known/mercure>; {REL}",
        ], host


def test_a_public_url_outside_ascii_is_linked_as_a_uri(
    serve: Callable[..., LiveServer], tmp_path: Path
) -> None:
    """A header value holds a URI: the host of an IRI ``PUBLIC_URL`` in IDNA, its path
    percent-encoded, and the contexts' ``@vocab`` the same."""
    app = build_app(tmp_path / "iri.db", public_url="https://bücher.example/☃/")
    live = serve(app)
    root = "https://xn--bcher-kva.example/%E2%98%83"
    response = httpx.get(f"{live.url}/books")
    assert response.status_code == 200
    assert _links(response) == [
        f"<{root}/docs.jsonld>; {DOCS_REL}",
        f"<{root}/docs.asyncapi.json>; {ASYNCAPI_REL}",
        f"<{root}/.well-known/mercure>; {REL}",
    ]
    _hydra, context = httpx.get(f"{live.url}/contexts/Book").json()["@context"]
    assert context["@vocab"] == f"{root}/docs.jsonld#"


def test_a_refused_host_leaves_every_root_relative_to_the_host(
    make_app: AppFactory, serve: Callable[..., LiveServer]
) -> None:
    """The links, the contexts' ``@vocab`` and the AsyncAPI hub agree; a script root made
    of slashes cannot turn the relative root into another host (``//zz``)."""
    app, _registry = make_app(CATALOG, hub_url="/.well-known/mercure")
    app.wsgi_app = ProxyFix(app.wsgi_app, x_prefix=1)  # type: ignore[method-assign]
    live = serve(app)
    for prefix, root in (("", ""), ("//zz", "/zz")):
        headers = {"Host": "a>b", "X-Forwarded-Prefix": prefix}
        response = httpx.get(f"{live.url}/gadgets", headers=headers)
        assert _links(response)[0] == f"<{root}/docs.jsonld>; {DOCS_REL}", prefix
        contexts = httpx.get(f"{live.url}/contexts/Gadget", headers=headers).json()
        assert contexts["@context"][1]["@vocab"] == f"{root}/docs.jsonld#", prefix
