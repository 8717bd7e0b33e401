"""What a hub refuses, checked before a change commits: updates larger than it takes,
and topics in its reserved namespace.

A change whose update its hub would refuse must not commit: its row would stay in the
outbox as ``rejected`` and no subscriber would ever learn of the change. So
:meth:`~app.publish.publisher.Publisher.stage` measures every update against its hub's
:class:`UpdateLimit` inside the committing transaction, and :class:`UpdateTooLarge` (a
413 for the REST API) fails the commit, change and all.

- the built-in hub takes an update up to ``MERCURE_MAX_UPDATE_SIZE`` bytes, measured by
  :func:`app.hub.size.update_size` (:func:`built_in_limit`);
- an external hub is a Mercure hub reading the publish form with Go's
  ``Request.ParseForm``, which refuses a form over 10 MiB (:func:`external_limit`,
  measured by :func:`form_size`, the exact length of the body the relay posts).

``MAX_BODY_SIZE`` keeps REST bodies well under these limits by default (1 MiB against
10 MiB); the check matters when the limits are set closer, and when the published
document is larger than the body that changed it (relations listed as IRIs).

Every hub refuses publishers the ``/.well-known/mercure`` namespace, where its
subscription events live (:mod:`app.hub.namespace`); the gateway's relay hands updates to
the built-in hub past those checks, so they are made here: :func:`check_options` at
start-up (topic templates and the reserved event type), :func:`check_topics` at each
write (:class:`ReservedTopic`, a 422, for topics that values expanded into it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.config.errors import ConfigError
from app.config.spec import ResourcesSpec
from app.errors import ApiError, PayloadTooLarge
from app.hub.form import MAX_FORM_SIZE
from app.hub.namespace import HUB_PATH, MERCURE_EVENT_TYPE, in_namespace
from app.hub.size import update_size
from app.hub.update import Update
from app.publish.external import form
from app.publish.topic import literal

__all__ = [
    "ReservedTopic",
    "UpdateLimit",
    "UpdateTooLarge",
    "built_in_limit",
    "check_options",
    "check_topics",
    "external_limit",
    "form_size",
]

# The bytes quote_plus leaves as they are; a space becomes "+", any other byte "%XX".
_UNESCAPED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~ "


class UpdateTooLarge(PayloadTooLarge):
    """A change would publish an update larger than its hub takes; nothing is written."""


class ReservedTopic(ApiError):
    """422: a change would publish an update in the hub's reserved namespace, where only
    the hub publishes (its subscription events); nothing is written."""

    status = 422


def check_options(spec: ResourcesSpec) -> None:
    """Raise :class:`~app.config.errors.ConfigError` naming every ``mercure`` option of
    ``spec`` that would publish what the hub reserves to itself: a topic template in its
    namespace however it is spelled (each placeholder read as a plain value; what values
    expand to is checked by :func:`check_topics` at each write), or the event type
    ``mercure``. Called at start-up, so such a file never serves."""
    problems = []
    for resource in spec.resources:
        options = resource.mercure
        if not options.enabled:
            continue
        at = f"resources.{resource.name}.mercure"
        for index, template in enumerate(options.topics):
            if in_namespace(literal(template)):
                problems.append(
                    f"{at}.topics[{index}]: topic '{template}' is in the hub's reserved "
                    f"namespace {HUB_PATH}, where only the hub publishes (subscription "
                    "events); choose a topic outside it, such as the item's IRI"
                )
        if options.type == MERCURE_EVENT_TYPE:
            problems.append(
                f"{at}.type: the event type '{MERCURE_EVENT_TYPE}' is reserved to the hub's "
                "subscription events; choose another type, or leave it out"
            )
    if problems:
        raise ConfigError("\n".join(problems))


def check_topics(update: Update) -> None:
    """Raise :class:`ReservedTopic` when a topic of ``update`` is one the hub refuses to
    publishers (:func:`app.hub.namespace.in_namespace`): a value expanded into a topic
    template may put it there."""
    for topic in update.topics:
        if in_namespace(topic):
            raise ReservedTopic(
                f"This change would publish a Mercure update on {topic}, in the hub's "
                f"reserved namespace {HUB_PATH}, where only the hub publishes. Nothing was "
                "saved. Change the values the resource's mercure.topics templates expand."
            )


@dataclass(frozen=True)
class UpdateLimit:
    """At most ``max_bytes`` as ``measure`` counts them; ``setting`` says how to change it."""

    max_bytes: int
    measure: Callable[[Update], int]
    what: str
    """What ``measure`` counts, for messages."""
    setting: str

    def check(self, update: Update) -> None:
        """Raise :class:`UpdateTooLarge` when ``update`` is over the limit."""
        size = self.measure(update)
        if size > self.max_bytes:
            raise UpdateTooLarge(
                f"This change would publish a Mercure update of {size} bytes ({self.what}) "
                f"on {update.topics[0]}, more than the limit of {self.max_bytes} bytes "
                f"{self.setting}. Nothing was saved."
            )


def built_in_limit(max_update_size: int) -> UpdateLimit:
    """The built-in hub's ``MERCURE_MAX_UPDATE_SIZE``."""
    return UpdateLimit(
        max_update_size, update_size, "SSE frame and topics", "set by MERCURE_MAX_UPDATE_SIZE"
    )


def external_limit() -> UpdateLimit:
    """What an external Mercure hub reads of a publish form."""
    return UpdateLimit(
        MAX_FORM_SIZE,
        form_size,
        "publish form",
        "an external Mercure hub reads (Go's Request.ParseForm)",
    )


def form_size(update: Update) -> int:
    """The length of the ``application/x-www-form-urlencoded`` body publishing ``update``
    (``urlencode(form(update), doseq=True)``), without building it."""
    size = -1  # one "&" fewer than fields
    for name, values in form(update).items():
        for value in [values] if isinstance(values, str) else values:
            size += len(name) + 2 + _quoted_length(value)
    return size


def _quoted_length(value: str) -> int:
    encoded = value.encode("utf-8")
    return len(encoded) + 2 * len(encoded.translate(None, _UNESCAPED))
