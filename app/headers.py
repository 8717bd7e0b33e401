"""Security headers on every answer of the gateway: REST, hub, pages, assets and errors.

The headers and their values are the hub's (:mod:`app.hub.headers`: the reference hub's,
with the differences listed there), so the gateway answers as one server: the same
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``X-XSS-Protection: 0``
and content security policy on the REST API, the hub, ``/docs``, the live page, the debug
UI, their assets and every error. Every page loads its scripts and styles from the gateway
itself, none inline, so the policy allows nothing else; ``connect-src`` also names the
origins of external hubs the live page subscribes to.

They are added by the gateway's one header layer around the whole app
(:class:`ResponseHeaders`, with :class:`SecurityHeaders` as its last edit), after every
hook, and replace whatever a blueprint set for these headers, so this is the one place that
decides them.

:class:`ResponseHeaders` is the WSGI middleware through which every part that adds headers
to every answer does so (:func:`add_header_edit`): the security headers here, the API's
discovery and CORS headers (:mod:`app.api.headers`) and ``Vary: Authorization``
(:mod:`app.auth`). One layer rather than one per part: one closure per answer instead of
one per part, and a measured difference for idle subscriptions: with a layer per part
(five layers of WSGI middleware around the app instead of three), the gateway's resident
memory per idle subscriber under gunicorn was 21.2 KB instead of 17.1 KB
(``docs/benchmarks.md``, "Memory per idle subscriber").

One page has an exception, named at start-up by ``eval_paths``: the AsyncAPI page
(``/docs/asyncapi``) runs AsyncAPI's parser in the browser, which compiles JSON Schemas
into functions (``new Function``), so its policy adds ``script-src 'self' 'unsafe-eval'``.
Its scripts still come from the gateway only, and it evaluates the gateway's own document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask

from app.hub.headers import security_headers

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = [
    "EXTENSION_KEY",
    "Edit",
    "ResponseHeaders",
    "SecurityHeaders",
    "add_header_edit",
    "init_app",
    "replace",
    "vary",
]

EXTENSION_KEY = "security_headers"
CSP = "Content-Security-Policy"
EVAL_SCRIPTS = "script-src 'self' 'unsafe-eval'"


Edit = Callable[["WSGIEnvironment", list[tuple[str, str]]], None]
"""Changes the headers of an answer (the list given to ``start_response``, edited in
place), given the request's WSGI environ."""

LAYER_KEY = "gateway_response_headers"


def init_app(
    app: Flask, *, connect_to: Iterable[str | None] = (), eval_paths: Iterable[str] = ()
) -> dict[str, str]:
    """Set the security headers on every response of ``app``; ``connect_to``: URLs the
    pages subscribe to (relative ones, and ``None``, are the gateway itself);
    ``eval_paths``: pages whose scripts may evaluate strings (see above). Returns the
    headers, also kept in ``app.extensions["security_headers"]``, which the edit reads on
    each response."""
    headers = security_headers(connect_to)
    app.extensions[EXTENSION_KEY] = headers
    add_header_edit(app, SecurityHeaders(headers, frozenset(eval_paths)))
    return headers


def add_header_edit(app: Flask, edit: Edit) -> None:
    """Apply ``edit`` to the headers of every answer of ``app``, after the edits added
    before it (so the last added decides a header several set). The first call wraps
    ``app.wsgi_app`` in the :class:`ResponseHeaders` layer, the later ones join it."""
    layer = app.extensions.get(LAYER_KEY)
    if layer is None:
        layer = app.extensions[LAYER_KEY] = ResponseHeaders(app.wsgi_app)
        app.wsgi_app = layer  # type: ignore[method-assign]
    layer.edits.append(edit)


class ResponseHeaders:
    """WSGI middleware around the app: its :attr:`edits` change the headers of every
    ``start_response``, in order, after every hook and error handler.

    At the WSGI level rather than in ``after_request`` hooks: the headers are plain tuples
    in the list the server receives, with no per-header work by Werkzeug on each response,
    which a hook would cost on every answer."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.edits: list[Edit] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        edits = self.edits

        def start(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            for edit in edits:
                edit(environ, headers)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


class SecurityHeaders:
    """The edit of the security headers: they replace any of the same names set before
    (the hub's own hook sets them too)."""

    def __init__(self, headers: Mapping[str, str], eval_paths: frozenset[str]) -> None:
        self._headers = headers
        """Read on each response: the mapping kept in ``app.extensions``."""
        self._names = frozenset(name.lower() for name in headers)
        self._eval_paths = eval_paths

    def __call__(self, environ: WSGIEnvironment, headers: list[tuple[str, str]]) -> None:
        added = list(self._headers.items())
        if environ.get("PATH_INFO") in self._eval_paths:
            added = [
                (name, f"{value}; {EVAL_SCRIPTS}" if name == CSP else value)
                for name, value in added
            ]
        names = self._names
        if any(name.lower() in names for name, _value in headers):
            headers[:] = [header for header in headers if header[0].lower() not in names]
        headers.extend(added)


def vary(headers: list[tuple[str, str]], name: str) -> None:
    """Add ``name`` to the ``Vary`` header of ``headers`` (a ``start_response`` list), as
    ``response.vary.add(name)`` would: once, case-insensitively, after the names there."""
    for index, (key, value) in enumerate(headers):
        if key.lower() == "vary":
            if name.lower() not in {part.strip().lower() for part in value.split(",")}:
                headers[index] = (key, f"{value}, {name}")
            return
    headers.append(("Vary", name))


def replace(headers: list[tuple[str, str]], name: str, value: str) -> None:
    """Set the header ``name`` of ``headers`` (a ``start_response`` list) to ``value``,
    dropping any of that name (case-insensitively) set before."""
    lowered = name.lower()
    headers[:] = [header for header in headers if header[0].lower() != lowered]
    headers.append((name, value))
