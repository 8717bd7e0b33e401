"""One JSON-LD document per flushed item, shared by everyone who serializes it then.

Right after a flush, a written item is serialized twice with the same options: by the
publishing bridge (the data of its Mercure update) and by the REST layer (the answer to
the write). :func:`serialize_flushed` makes the second call reuse the first document.

Validity: a document is kept in its session's ``info`` and served only while the item
cannot have changed since it was made: the item has no pending change and no expired
attribute, and the session has not flushed, committed or rolled back since (each of
those forgets every kept document), nor refreshed or expired the item (that forgets its
documents). The documents are shared: callers must not modify them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import InstanceState, Mapper, Session

from app.config.spec import ResourceSpec
from app.models import ModelRegistry
from app.schemas.serializer import JSONLD_KEYS, serialize_item

__all__ = ["serialize_flushed"]

_INFO_KEY = "app.schemas.flushed"
_installed = False

Documents = dict[tuple[int, tuple[str, ...]], tuple[object, dict[str, Any]]]


def serialize_flushed(
    registry: ModelRegistry,
    resource: ResourceSpec,
    obj: object,
    session: Session,
    *,
    groups: tuple[str, ...] = (),
    jsonld: bool = True,
) -> dict[str, Any]:
    """:func:`~app.schemas.serializer.serialize_item` of ``obj``, just flushed by
    ``session``: made once per flush and ``groups``, then served from memory."""
    _install()
    state = inspect(obj)
    if state.modified or state.expired_attributes:
        return serialize_item(registry, resource, obj, groups=groups, jsonld=jsonld)
    documents: Documents = session.info.setdefault(_INFO_KEY, {})
    key = (id(obj), groups)
    kept = documents.get(key)
    if kept is None or kept[0] is not obj:
        document = serialize_item(registry, resource, obj, groups=groups, jsonld=True)
        documents[key] = (obj, document)
    else:
        document = kept[1]
    if jsonld:
        return document
    return {name: value for name, value in document.items() if name not in JSONLD_KEYS}


def _forget_all(session: Session, *_args: object) -> None:
    session.info.pop(_INFO_KEY, None)


def _forget_item(state: InstanceState[Any], *_args: object) -> None:
    session = state.session
    documents: Documents | None = None if session is None else session.info.get(_INFO_KEY)
    if documents:
        obj = state.obj()
        for key in [key for key, (kept, _document) in documents.items() if kept is obj]:
            del documents[key]


def _install() -> None:
    global _installed
    if _installed:
        return
    for name in ("before_flush", "after_commit", "after_rollback", "after_soft_rollback"):
        event.listen(Session, name, _forget_all)
    for name in ("refresh", "expire"):
        event.listen(Mapper, name, _forget_item, raw=True)
    _installed = True
