"""Active subscriptions: subscription events and the subscriptions web API documents.

One subscription exists per (subscriber, topic selector). Its IRI, which is also the topic
of its events, is ``/.well-known/mercure/subscriptions/{topic}/{subscriber}`` with both
values escaped as the reference hub escapes them, by Go's ``url.QueryEscape`` (see
:func:`query_escape`): a space becomes ``+``, and every byte but ASCII letters, digits and
``-_.~`` is percent-encoded.

Security: subscription events are always private, so only subscribers whose token's
``mercure.subscribe`` matches the subscription IRI receive them; the API likewise requires
the requested URL to match ``mercure.subscribe`` (checked by the HTTP layer).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote_plus

from app.hub.subscriber import SubscriberInfo
from app.hub.update import Update

__all__ = [
    "JSONLD_CONTEXT",
    "SUBSCRIPTIONS_PATH",
    "collection_document",
    "find_subscription",
    "query_escape",
    "subscription_document",
    "subscription_id",
    "subscription_updates",
]

SUBSCRIPTIONS_PATH = "/.well-known/mercure/subscriptions"
JSONLD_CONTEXT = "https://mercure.rocks/"


def query_escape(value: str) -> str:
    """``value`` escaped as Go's ``url.QueryEscape`` does.

    ``quote_plus`` with no safe character is the same function for valid UTF-8: both keep
    ASCII letters, digits and ``-_.~``, turn a space into ``+`` and percent-encode every
    other byte of the UTF-8 encoding with upper-case hex (``*`` is ``%2A``, ``+`` is
    ``%2B``, ``~`` stays).
    """
    return quote_plus(value, safe="")


def subscription_id(topic: str, subscriber_id: str) -> str:
    """The IRI of the subscription of ``subscriber_id`` to ``topic``."""
    return f"{SUBSCRIPTIONS_PATH}/{query_escape(topic)}/{query_escape(subscriber_id)}"


def subscription_document(
    info: SubscriberInfo, topic: str, *, active: bool = True, context: bool = True
) -> dict[str, Any]:
    """The JSON-LD document of one subscription, in the reference hub's key order."""
    document: dict[str, Any] = {}
    if context:
        document["@context"] = JSONLD_CONTEXT
    document["id"] = subscription_id(topic, info.id)
    document["type"] = "Subscription"
    document["subscriber"] = info.id
    document["topic"] = topic
    document["active"] = active
    if info.payload is not None:
        document["payload"] = info.payload
    return document


def subscription_updates(info: SubscriberInfo, *, active: bool) -> list[Update]:
    """The private updates announcing that ``info``'s subscriptions started or ended."""
    updates = []
    for topic in info.topics:
        document = subscription_document(info, topic, active=active)
        updates.append(
            Update(
                topics=(document["id"],),
                data=json.dumps(document, indent=2, ensure_ascii=False),
                private=True,
            )
        )
    return updates


def collection_document(
    path: str,
    last_event_id: str,
    subscribers: Iterable[SubscriberInfo],
    topic: str | None = None,
) -> dict[str, Any]:
    """The ``Subscriptions`` collection at ``path``, optionally limited to one ``topic``."""
    subscriptions = [
        subscription_document(info, selector, context=False)
        for info in subscribers
        for selector in info.topics
        if topic is None or selector == topic
    ]
    return {
        "@context": JSONLD_CONTEXT,
        "id": path,
        "type": "Subscriptions",
        "lastEventID": last_event_id,
        "subscriptions": subscriptions,
    }


def find_subscription(
    subscribers: Iterable[SubscriberInfo], topic: str, subscriber_id: str
) -> dict[str, Any] | None:
    """The document of ``subscriber_id``'s subscription to ``topic``, or ``None``."""
    for info in subscribers:
        if info.id == subscriber_id and topic in info.topics:
            return subscription_document(info, topic)
    return None
