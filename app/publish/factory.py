"""Build the :class:`~app.hub.update.Update` for one changed item, per its ``mercure`` options.

Topics: the ``topics`` templates when given (they replace the default), else the absolute
item IRI. Data: the ``data`` option verbatim for creates and updates when set, else the
JSON-LD item restricted to ``normalization_groups``; deletes always carry the relative IRI
(and ``@type`` with ``include_type``). ``id`` is a template like the topics (a literal
without braces stays as it is); without it a fresh ``urn:uuid:`` id is fixed here, before
any delivery attempt, so a retried delivery carries the same id, and so is its fresh
idempotency ``key``. ``private``, ``type`` and ``retry`` are copied. A resource with a read
rule adds its audience topics (:mod:`app.access.audience`) after its own, so that its
(private) update reaches exactly the subscribers whose users may read the item.

Callers must build create updates after the INSERT (the id exists) and delete updates
before the DELETE (the row and its relations can still be read).
"""

from __future__ import annotations

from functools import partial

from app.access.audience import AUDIENCE_PATH, audience_fields, item_audiences
from app.config.spec import ResourceSpec
from app.hub.update import Update, new_key
from app.publish import payload, topic
from app.publish.item import ItemRenderer


class UpdateFactory:
    """Turns items into updates; ``public_url`` fixes the origin of absolute IRIs."""

    def __init__(self, renderer: ItemRenderer, public_url: str | None) -> None:
        self._renderer = renderer
        self._public_url = public_url

    def saved(self, resource: ResourceSpec, obj: object) -> Update:
        """The update for a created or updated item (call after the flush)."""
        options = resource.mercure
        iri = self._renderer.iri(resource, obj)
        if options.data is not None:
            data = options.data
        else:
            data = self._renderer.data(resource, obj, options.normalization_groups)
        return self._update(resource, obj, iri, data)

    def deleted(self, resource: ResourceSpec, obj: object) -> Update:
        """The update for a deleted item (call before the row is gone)."""
        options = resource.mercure
        iri = self._renderer.iri(resource, obj)
        type_name = resource.name if options.include_type else None
        return self._update(resource, obj, iri, payload.deleted_data(iri, type_name))

    def _update(self, resource: ResourceSpec, obj: object, iri: str, data: str) -> Update:
        options = resource.mercure
        origin = payload.origin(self._public_url)
        absolute_iri = payload.absolute(origin, iri)
        resolve = partial(resolve_path, obj)
        if options.topics:
            topics = tuple(topic.expand(t, resolve, absolute_iri) for t in options.topics)
        else:
            topics = (absolute_iri,)  # the default template, IRI_PLACEHOLDER, is the IRI
        read = resource.security.read
        if read is not None:
            base = f"{origin}{AUDIENCE_PATH}{resource.route}"
            topics += tuple(item_audiences(audience_fields(read), obj, base))
        update_id = topic.expand(options.id, resolve, absolute_iri) if options.id else ""
        return Update(
            topics=topics,
            data=data,
            private=options.private,
            id=update_id,
            type=options.type,
            retry=options.retry,
            key=new_key(),
        )


def resolve_path(obj: object, path: tuple[str, ...]) -> object:
    """Follow ``path`` through attributes (``("book", "id")`` -> ``obj.book.id``).

    A ``None`` along the way yields ``None``; an unknown attribute raises
    :class:`~app.publish.topic.TopicError` naming it.
    """
    value: object = obj
    for index, name in enumerate(path):
        if value is None:
            return None
        if not hasattr(value, name):
            dotted = ".".join(path[: index + 1])
            raise topic.TopicError(f"{type(value).__name__} has no field {name!r} ({dotted})")
        value = getattr(value, name)
    return value
