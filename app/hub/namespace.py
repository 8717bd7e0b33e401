"""The hub's reserved namespace: ``/.well-known/mercure`` and what lies below it.

Subscription events live there (``/.well-known/mercure/subscriptions/...``), so only the
hub publishes there: the hub refuses publishers (:mod:`app.hub.http.publish`,
:mod:`app.hub.http.publish_v1`) and the gateway refuses to publish an item's update there
(:mod:`app.publish.limits`), with :func:`reserved` or :func:`in_namespace`. Pure: no
Flask, no I/O.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from urlpattern import URLPattern

__all__ = ["HUB_PATH", "MERCURE_EVENT_TYPE", "SUBSCRIPTIONS_PATH", "in_namespace", "reserved"]

HUB_PATH = "/.well-known/mercure"
"""The hub's path, the same for every Mercure hub."""
SUBSCRIPTIONS_PATH = HUB_PATH + "/subscriptions"
"""Where the subscriptions web API lives, and the topics of subscription events."""
MERCURE_EVENT_TYPE = "mercure"
"""The SSE event type of 1.0 subscription events, reserved to the hub."""
_ANY_HUB = "http://hub.invalid" + HUB_PATH
"""A hub URL to resolve relative topics against: :func:`reserved` ignores the authority."""
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATTERN_SYNTAX = re.compile(r"[\\:*?+(){}]")


def _decode_unreserved(match: re.Match[str]) -> str:
    character = chr(int(match[1], 16))
    return character if character in _UNRESERVED else match[0].upper()


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
            continue
        if segment == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
            continue
        output.append(segment)
    return "/".join(output)


@lru_cache(maxsize=8)
def _namespace_patterns(hub_path: str) -> tuple[URLPattern, URLPattern]:
    """URL patterns of any scheme and host for what lies below ``hub_path``, and for it."""
    literal = _PATTERN_SYNTAX.sub(r"\\\g<0>", hub_path)
    return URLPattern({"pathname": literal + "/*"}), URLPattern({"pathname": literal})


def reserved(topic: str, base: str, *, itself: bool = True) -> bool:
    """Whether ``topic``, resolved against the hub URL ``base``, addresses the hub's
    reserved namespace (the hub's path, or below it; below it only when ``itself`` is
    false), whatever its scheme or authority.

    The topic is read twice: by :mod:`urllib.parse` (escaped unreserved characters
    decoded, dot-segments removed) and as URL patterns read it (the URL Standard, where a
    backslash also ends the authority of a special URL, so ``https://host\\.well-known/
    mercure/x`` is on the hub's path); either reading in the namespace reserves it."""
    hub_path = urlsplit(base).path.rstrip("/")
    below, at = _namespace_patterns(hub_path)
    try:
        if below.test(topic, base) or (itself and at.test(topic, base)):
            return True
    except (ValueError, TypeError):  # pragma: no cover - the binding answers False
        pass
    try:
        parts = urlsplit(urljoin(base, topic))
    except ValueError:
        return False  # not a URL reference: it cannot name a hub path
    path = parts.path
    if parts.scheme in ("http", "https", "ws", "wss", "ftp", "file"):
        path = path.replace("\\", "/")  # as the URL Standard reads special URLs
    path = _remove_dot_segments(_ESCAPE.sub(_decode_unreserved, path))
    return (itself and path == hub_path) or path.startswith(hub_path + "/")


def in_namespace(topic: str) -> bool:
    """Whether the hub would refuse ``topic`` to a publisher of either protocol: it holds
    ``/.well-known/mercure`` anywhere (0.x, as the reference hub), or it addresses the
    namespace once read as a URL (1.0's :func:`reserved`: escapes, dot-segments,
    backslashes, and tabs or newlines, which URL parsing drops).

    Cheap for the topics of ordinary items: the URL readings run only for a topic that
    holds ``.well-known``, a ``%`` or a character that is not printable."""
    if HUB_PATH in topic:
        return True
    if ".well-known" not in topic and "%" not in topic and topic.isprintable():
        return False
    return reserved(topic, _ANY_HUB)
