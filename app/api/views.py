"""MethodViews serving one resource's collection and items.

Write path, in order: negotiate the response format (406), refuse a user whom the rule
denies whatever the item (401/403), for ``put`` and ``patch`` apply the rule to the stored
item (so no change can make an item the user may not touch its own), read the body
(415/400), validate it (422), check that related items exist (422 on the relation), set the
owner, apply the rule to the item as it would be written (401/403), write the row with one
statement (:mod:`app.api.writer`), serialize the row as written, commit, and map refused
constraints to 409/422. Reads apply the rule to the item (``GET``) or limit the collection
to the items the user may read. Nothing is published here: the publishing bridge stages
each written row's update in the transaction and relays it after the commit.

Any other database failure, on any operation, rolls the session back and answers 503
with a generic detail; the driver's message is logged with the resource and operation.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import request
from flask.typing import ResponseReturnValue
from flask.views import MethodView
from sqlalchemy.exc import IntegrityError

from app.api import documents, pagination
from app.api.endpoint import Endpoint
from app.api.integrity import DATABASE_ERRORS, database_failure, delete_error
from app.api.merge_patch import merge_patch
from app.api.negotiation import document_response, json_body, response_format
from app.config.spec import Operation
from app.errors import Unauthorized
from app.metrics import OPERATION_KEY
from app.models import iri_for_id
from app.schemas import Mode


class ResourceView(MethodView):
    """A view of one resource, built once at start-up (``init_every_request`` off)."""

    init_every_request = False

    operations: dict[str, Operation] = {}
    """The operation of each implemented method (``HEAD`` is ``GET``'s)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint

    def dispatch_request(self, **kwargs: Any) -> ResponseReturnValue:
        """Call the handler of the request's method (``HEAD`` is ``GET``).

        As ``MethodView`` does, without wrapping the handler for ``async`` support on
        every request: the handlers are synchronous. The route's ``methods`` let only
        implemented methods through. A database failure the handler did not map to an
        answer of its own becomes :class:`~app.errors.DatabaseUnavailable` (503).
        """
        method = "GET" if request.method == "HEAD" else request.method
        handler = getattr(self, method.lower())
        counted = self.operations.get(request.method)  # HEAD is not counted
        if counted is not None:
            request.environ[OPERATION_KEY] = (self.endpoint.resource.name, counted)
        try:
            return handler(**kwargs)  # type: ignore[no-any-return]
        except DATABASE_ERRORS as error:
            self._forget()
            operation = self.operations[method]
            raise database_failure(error, self.endpoint.resource, operation) from None

    def _forget(self) -> None:
        """Roll back what the failed request began (a dead connection may refuse even
        that; the session is discarded with the request's app context anyway)."""
        with contextlib.suppress(*DATABASE_ERRORS):
            self.endpoint.session.rollback()


class CollectionView(ResourceView):
    """``GET`` (filtered, ordered, paginated) and ``POST`` on ``/books``."""

    operations = {"GET": "get_collection", "POST": "post"}

    def get(self) -> ResponseReturnValue:
        endpoint, resource = self.endpoint, self.endpoint.resource
        fmt = response_format(request)
        user = endpoint.guard.enter("get_collection")  # its rule cannot read an item
        args = request.args
        where = endpoint.queries.where(args)
        visible = endpoint.guard.visible(user, endpoint.model)
        if visible is not None:
            where.append(visible)
        order = endpoint.queries.order_by(args)
        page = pagination.requested_page(resource.pagination, args)
        rows, total = endpoint.collection(where, order, page)
        members = endpoint.members(rows, jsonld=fmt == "jsonld")
        plain = endpoint.dumper.plain_json
        if fmt == "json":
            return document_response(members, fmt, plain=plain)
        view = None if page is None else pagination.view(resource.route, args, page, total)
        document = documents.collection(resource, members, total, view, endpoint.search)
        return document_response(document, fmt, plain=plain)

    def post(self) -> ResponseReturnValue:
        endpoint, owner = self.endpoint, self.endpoint.resource.owner
        response_format(request)
        user = endpoint.guard.enter("post")
        values = endpoint.load(json_body(request), "create")
        if owner is not None:
            if user is None:
                raise Unauthorized(f"A {endpoint.resource.name} is owned by its creator: sign in.")
            values[owner] = user.id
        endpoint.guard.check("post", user, endpoint.guard.candidate(values))
        return endpoint.create(values)


class ItemView(ResourceView):
    """``GET``, ``PUT``, ``PATCH`` (merge patch) and ``DELETE`` on ``/books/<id>``."""

    operations = {"GET": "get", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}

    def get(self, item_id: int) -> ResponseReturnValue:
        response_format(request)  # 406 before any work; row_response reuses the result
        endpoint = self.endpoint
        user = endpoint.guard.enter("get")
        row = endpoint.read(item_id)  # the rule reads its attributes as the model's
        endpoint.guard.check("get", user, row)
        return endpoint.row_response(row)

    def put(self, item_id: int) -> ResponseReturnValue:
        return self._write(item_id, "replace")

    def patch(self, item_id: int) -> ResponseReturnValue:
        return self._write(item_id, "patch")

    def delete(self, item_id: int) -> ResponseReturnValue:
        endpoint = self.endpoint
        user = endpoint.guard.enter("delete")
        obj = endpoint.find(item_id)
        endpoint.guard.check("delete", user, obj)
        endpoint.session.delete(obj)
        try:
            endpoint.session.commit()
        except IntegrityError as error:
            endpoint.session.rollback()
            iri = iri_for_id(endpoint.resource, item_id)
            raise delete_error(error, endpoint.resource, iri) from None
        return "", 204

    def _write(self, item_id: int, mode: Mode) -> ResponseReturnValue:
        endpoint, guard = self.endpoint, self.endpoint.guard
        operation: Operation = "patch" if mode == "patch" else "put"
        response_format(request)
        user = guard.enter(operation)
        stored = endpoint.stored(item_id)
        guard.check(operation, user, stored, stored)  # the stored item: no take-over
        values = endpoint.load(json_body(request, patch=mode == "patch"), mode)
        if mode == "patch":
            for name in endpoint.json_fields.intersection(values):
                values[name] = merge_patch(getattr(stored, name), values[name])
        guard.check(operation, user, guard.candidate(values, stored), stored)
        return endpoint.update(stored, values)
