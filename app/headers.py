"""Security headers on every answer of the gateway: REST, hub, pages, assets and errors.

The headers and their values are the hub's (:mod:`app.hub.headers`: the reference hub's,
with the differences listed there), so the gateway answers as one server: the same
``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, ``X-XSS-Protection: 0``
and content security policy on the REST API, the hub, ``/docs``, the live page, the debug
UI, their assets and every error. Every page loads its scripts and styles from the gateway
itself, none inline, so the policy allows nothing else; ``connect-src`` also names the
origins of external hubs the live page subscribes to.

The hook is an application hook: it runs after every blueprint's and replaces whatever
they set for these headers, so this is the one place that decides them.

One page has an exception, named at start-up by ``eval_paths``: the AsyncAPI page
(``/docs/asyncapi``) runs AsyncAPI's parser in the browser, which compiles JSON Schemas
into functions (``new Function``), so its policy adds ``script-src 'self' 'unsafe-eval'``.
Its scripts still come from the gateway only, and it evaluates the gateway's own document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import Flask, Response, request

from app.hub.headers import security_headers

__all__ = ["EXTENSION_KEY", "init_app", "set_all"]

EXTENSION_KEY = "security_headers"
CSP = "Content-Security-Policy"
EVAL_SCRIPTS = "script-src 'self' 'unsafe-eval'"


def init_app(
    app: Flask, *, connect_to: Iterable[str | None] = (), eval_paths: Iterable[str] = ()
) -> dict[str, str]:
    """Set the security headers on every response of ``app``; ``connect_to``: URLs the
    pages subscribe to (relative ones, and ``None``, are the gateway itself);
    ``eval_paths``: pages whose scripts may evaluate strings (see above). Returns the
    headers, also kept in ``app.extensions["security_headers"]``, where the hook reads
    them on each response."""
    app.extensions[EXTENSION_KEY] = security_headers(connect_to)
    evaluating = frozenset(eval_paths)

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers: dict[str, str] = app.extensions[EXTENSION_KEY]
        set_all(response, headers)
        if evaluating and request.path in evaluating:
            response.headers[CSP] = headers[CSP] + "; " + EVAL_SCRIPTS
        return response

    headers: dict[str, str] = app.extensions[EXTENSION_KEY]
    return headers


def set_all(response: Response, headers: Mapping[str, str]) -> None:
    """Set ``headers`` on ``response``, replacing any of them already there: as
    ``response.headers[name] = value`` for each, with one pass over the response's headers
    rather than one per name (most responses have none of them yet)."""
    names = {name.lower() for name in headers}
    present = [name for name, _value in response.headers.items() if name.lower() in names]
    if present:
        for name in present:
            del response.headers[name]
    response.headers.extend(headers)
