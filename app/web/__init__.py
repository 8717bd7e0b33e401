"""The live page served at ``/``: every resource's collection, updated from the hub.

The page (template and script packaged beside this module) reads each collection from its
route with ``Accept: application/ld+json``, finds the hub in the ``Link: rel="mercure"``
response header and subscribes with ``EventSource`` to the absolute item IRI template of
the resource (``http://host/books/{id}``): a create or update payload (the JSON-LD item)
upserts its row, a delete payload (``{"@id": "/books/1"}``) removes it.

Signing in: the visitor pastes a user's bearer token. The page keeps it in
``sessionStorage`` only (never in a cookie, so the hub never sees it), sends it as
``Authorization: Bearer`` with its REST reads, and calls ``GET /auth/mercure`` with it,
which sets the hub's HttpOnly authorization cookie holding a *subscriber* token; the page
then reopens its streams, and the hub delivers the private updates of exactly the items the
user may read. Signing out forgets the token and asks ``POST /web/sign-out`` to expire that
cookie (the page cannot: it is HttpOnly), then reopens the streams without it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from app.auth import EXTENSION_KEY as AUTH_EXTENSION_KEY
from app.auth.mercure import PATH as SUBSCRIBER_TOKEN_PATH
from app.config.spec import ResourceSpec, ResourcesSpec
from app.hub.http import HUB_PATH
from app.hub.settings import DEFAULT_COOKIE_NAME
from app.publish.payload import origin
from app.publish.topic import IRI_PLACEHOLDER, url_pattern

__all__ = ["ENDPOINT", "SIGN_OUT_PATH", "init_app", "page_config"]

ENDPOINT = "web.index"
SIGN_OUT_PATH = "/web/sign-out"


def _signing_in(protocol: str) -> dict[str, Any]:
    """What the sign-in control needs: whether users are authenticated at all, and the
    subscriber token route (for ``protocol``'s tokens) when the app serves it."""
    auth = current_app.extensions.get(AUTH_EXTENSION_KEY)
    served = any(rule.rule == SUBSCRIBER_TOKEN_PATH for rule in current_app.url_map.iter_rules())
    tokens = SUBSCRIBER_TOKEN_PATH + ("?protocol=1.0" if protocol == "1.0" else "")
    return {
        "enabled": bool(getattr(getattr(auth, "authenticator", None), "enabled", False)),
        "tokens": tokens if served else None,
        "signOut": url_for("web.sign_out"),
    }


def _columns(resource: ResourceSpec) -> list[str]:
    readable = [f.name for f in resource.fields if not f.write_only]
    readable += [r.name for r in resource.relations if not r.write_only]
    return readable


def page_config(
    spec: ResourcesSpec, origin: str, auth: dict[str, Any] | None = None, protocol: str = "0.x"
) -> dict[str, Any]:
    """The JSON the page script works from: resources with routes, columns and topics
    (the 0.x URI template ``topic`` and the 1.0 URL ``pattern``), the ``protocol`` its
    streams speak (``1.0`` when the hub does), and the sign-in settings ``auth``
    (``{"enabled", "tokens", "signOut"}``; signing in is off when ``None``)."""
    return {
        "title": spec.api.title,
        "auth": auth or {"enabled": False, "tokens": None, "signOut": None},
        "protocol": protocol,
        "resources": [
            {
                "name": resource.name,
                "route": resource.route,
                "columns": _columns(resource),
                "live": resource.mercure.enabled,
                "private": resource.mercure.private,
                "topic": f"{origin}{resource.route}/{{id}}",
                "pattern": url_pattern(IRI_PLACEHOLDER, origin, resource.route),
            }
            for resource in spec.resources
            if "get_collection" in resource.operations
        ],
    }


def init_app(
    app: Flask,
    spec: ResourcesSpec,
    *,
    public_url: str | None = None,
    cookie_name: str = DEFAULT_COOKIE_NAME,
    access_token_cookie: str | None = None,
) -> None:
    """Serve the live page at ``/`` (endpoint :data:`ENDPOINT`, ``GET`` only, HTML) and
    ``POST`` :data:`SIGN_OUT_PATH`.

    ``public_url`` (``PUBLIC_URL``) is the origin of the topics the page subscribes to
    (default: the request's), as the publisher puts it in topics; ``cookie_name`` is the
    hub's authorization cookie (``MERCURE_COOKIE_NAME``), which signing out expires;
    ``access_token_cookie`` is the hub's Mercure 1.0 cookie when the hub speaks 1.0 (then
    the page subscribes in 1.0, and signing out expires both).

    When the REST entrypoint also answers ``/``, it defers to this endpoint for clients
    that prefer HTML.
    """
    protocol = "0.x" if access_token_cookie is None else "1.0"
    blueprint = Blueprint(
        "web",
        __name__,
        static_folder="static",
        static_url_path="/web/static",
        template_folder="templates",
    )

    @blueprint.get("/")
    def index() -> str:
        return render_template(
            "web/index.html",
            config=page_config(spec, origin(public_url), _signing_in(protocol), protocol),
            title=spec.api.title,
            cookie_name=access_token_cookie or cookie_name,
            ui_enabled="mercure_ui.index" in current_app.view_functions,
        )

    @blueprint.post(SIGN_OUT_PATH)
    def sign_out() -> Response:
        """Expire the hub's authorization cookie (set by ``/auth/mercure``, HttpOnly so the
        page cannot). Carries no secret and grants nothing: at worst another site signs
        the visitor's live page out."""
        response = Response(status=204)
        response.headers["Cache-Control"] = "no-store"
        for name in (cookie_name, access_token_cookie):
            if name is None:
                continue
            response.delete_cookie(
                name,
                path=HUB_PATH,
                secure=request.is_secure or name.startswith("__Secure-"),
                httponly=True,
                samesite="Strict",
            )
        return response

    app.register_blueprint(blueprint)
