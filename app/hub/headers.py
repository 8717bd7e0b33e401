"""Security headers of the hub's answers, modelled on the reference hub's.

The reference hub (v0.24) sends, on every response of its handler (errors, CORS preflights
and its debug UI included)::

    X-Frame-Options: DENY
    X-Content-Type-Options: nosniff
    X-XSS-Protection: 1; mode=block
    Content-Security-Policy: default-src 'self'

(with its UI on, the policy also names the CDN hosts that UI loads from). These are the
same, with deliberate differences:

- ``X-XSS-Protection: 0``. The filter ``1; mode=block`` switches on is gone from current
  browsers, and in the old ones that still run it, it could be used to probe or blank out
  parts of a page; the content security policy does its job. ``0`` switches it off there.
- The policy keeps ``default-src 'self'`` (pages load their scripts, styles and images
  from the server itself, none inline, no CDN) and adds what ``default-src`` does not
  cover or what pages need: ``img-src`` also allows ``data:`` (stylesheets that draw icons
  as ``data:`` images, the empty ``data:,`` favicon); ``connect-src`` also allows the
  origins given to :func:`security_headers` (hubs elsewhere that pages subscribe to);
  ``object-src 'none'``, ``base-uri 'none'``, ``form-action 'self'`` and
  ``frame-ancestors 'none'`` (the policy form of ``X-Frame-Options: DENY``).

:func:`add_security_headers` is the hub's own ``after_request`` hook for an app that
mounts nothing but the hub; it never overwrites a header already set, so an application
hook that sets them (the gateway's, :mod:`app.headers`) decides, whatever the order the
hooks run in.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Response

__all__ = ["add_security_headers", "content_security_policy", "security_headers"]


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL; ``None`` for a relative one."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(connect_to: Iterable[str | None] = ()) -> str:
    """The policy; ``connect_to`` lists URLs pages may also open connections to (an
    absolute one adds its origin to ``connect-src``; a relative one or ``None`` is the
    server itself)."""
    extra = sorted({origin for url in connect_to if url and (origin := _origin(url))})
    return "; ".join(
        [
            "default-src 'self'",
            "img-src 'self' data:",
            " ".join(["connect-src 'self'", *extra]),
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(connect_to: Iterable[str | None] = ()) -> dict[str, str]:
    """Every security header, by name (see the module's docstring)."""
    return {
        "Content-Security-Policy": content_security_policy(connect_to),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "X-XSS-Protection": "0",
    }


_DEFAULT = security_headers()


def add_security_headers(response: Response) -> Response:
    """``after_request`` hook: add :func:`security_headers` not already on ``response``."""
    for name, value in _DEFAULT.items():
        response.headers.setdefault(name, value)
    return response
