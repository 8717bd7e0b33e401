"""Publishing in Mercure 1.0: ``POST /.well-known/mercure`` with a JWT access token.

In order: ``401`` (RFC 6750 challenge) without a token, ``401 invalid_token`` for a token
that fails validation, ``400 invalid_request`` for a token in the query string or a
malformed ``Authorization`` header; ``400`` for a body Go's ``ParseForm`` would refuse, no
``topic``, a topic, ``id`` or ``type`` holding a control or format character or invalid
UTF-8, a topic that is exactly ``*`` or that addresses the hub's reserved namespace once
resolved against the hub's URL (dot-segments removed, escaped unreserved characters
decoded, so ``/.well-known/%6Dercure/x`` and ``/a/../.well-known/mercure`` are caught), an
``id`` that starts with ``#`` or is ``earliest``, the reserved ``type`` ``mercure``, a
``retry`` that is not ASCII digits, or ``data`` that is not UTF-8; ``413`` for more than
``MERCURE_MAX_TOPICS`` topics or an update larger than ``MERCURE_MAX_UPDATE_SIZE``;
``403 insufficient_scope`` unless a ``publish`` grant matches every topic; ``500`` when the
transport cannot take it; else ``200`` with the update id. Unknown fields are ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from flask import Response, request
from urlpattern import URLPattern

from app.hub.form import FormError, read_post_form
from app.hub.http.bearer import BearerError, bearer_grants, challenge
from app.hub.http.responses import published, text
from app.hub.matchers import WILDCARD, invalid_value
from app.hub.oauth import PUBLISHER
from app.hub.subscriber import EARLIEST
from app.hub.subscriptions import MERCURE_EVENT_TYPE

if TYPE_CHECKING:
    from app.hub import Hub

__all__ = ["publish_v1", "reserved"]


_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATTERN_SYNTAX = re.compile(r"[\\:*?+(){}]")
_DIGITS = re.compile(r"[0-9]+")
_UINT64_MAX = (1 << 64) - 1


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


def publish_v1(hub: Hub) -> Response:
    """Answer a 1.0 publish request."""
    settings = hub.settings
    try:
        grants = bearer_grants(hub, PUBLISHER, post_origins=settings.publish_origins)
    except BearerError as failure:
        return challenge(settings, failure)
    if grants is None:
        return challenge(settings, BearerError(401))
    try:
        form = read_post_form(request.stream, request.mimetype, request.query_string)
    except FormError:
        return text("Bad Request", 400)
    topics = form.get("topic", [])
    if not topics:
        return text('Missing "topic" field.', 400)
    if len(topics) > settings.max_topics:
        return text(f"More than {settings.max_topics} topics in one update.", 413)
    base = settings.resource
    for topic in topics:
        if invalid_value(topic):
            return text(
                f"Topic {topic!r} holds a control or format character or invalid UTF-8.", 400
            )
        if topic == WILDCARD:
            return text('The topic "*" is reserved for the wildcard matcher.', 400)
        if reserved(topic, base):
            return text(f"Topic {topic!r} addresses the hub's reserved namespace.", 400)
    update_id = form.get("id", [""])[0]
    event_type = form.get("type", [""])[0]
    data = form.get("data", [""])[0]
    raw_retry = form.get("retry", [""])[0]
    if invalid_value(update_id) or update_id.startswith("#") or update_id == EARLIEST:
        return text(
            '"id" must not start with "#", be "earliest", or hold a control or format character.',
            400,
        )
    if invalid_value(event_type):
        return text('"type" holds a control or format character or invalid UTF-8.', 400)
    if event_type == MERCURE_EVENT_TYPE:
        return text('The event type "mercure" is reserved for the hub.', 400)
    if any(0xD800 <= ord(character) <= 0xDFFF for character in data):
        return text('"data" is not valid UTF-8.', 400)
    retry: int | None = None
    if "retry" in form and raw_retry:
        if not _DIGITS.fullmatch(raw_retry) or int(raw_retry) > _UINT64_MAX:
            return text('"retry" must be ASCII digits.', 400)
        retry = int(raw_retry)
    if not all(grants.may_publish(topic, base) for topic in topics):
        return challenge(settings, BearerError(403, "insufficient_scope"))
    return published(
        hub,
        topics,
        data=data,
        private="private" in form,
        update_id=update_id,
        event_type=event_type,
        retry=retry,
    )
