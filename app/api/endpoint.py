"""What the views know about one resource: model, queries, loading and committing.

Built once per resource at start-up and shared by its views (immutable, so safe across
greenlets); the database session is Flask-SQLAlchemy's, scoped to the app context.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Response, request
from sqlalchemy.exc import IntegrityError

from app.access.guard import Guard
from app.api import documents
from app.api.filters import QueryBuilder
from app.api.integrity import write_error
from app.api.negotiation import MERGE_PATCH, encoded_response, response_format
from app.api.pagination import Page
from app.api.values import ID_MAX
from app.api.writer import RowWriter
from app.config.spec import ResourceSpec
from app.errors import NotFound, ValidationFailed, Violation
from app.models import ModelRegistry, iri_for_id, item_iri
from app.models.columns import relation_column
from app.schemas import Dumper, Mode, load_payload, schemas_for
from app.schemas.encoder import encode_document

ITEM_HEADERS = {"Accept-Patch": MERGE_PATCH}


@dataclass(frozen=True)
class Unfiltered:
    """The statements of a collection without filters in its default order: built once,
    so each request skips building them and SQLAlchemy finds their compiled form at once."""

    all: sa.Select[Any]
    page: sa.Select[Any]
    """With the bound parameters ``offset`` and ``limit``."""
    count: sa.Select[Any]

    @classmethod
    def build(cls, model: type[Any], dumper: Dumper, queries: QueryBuilder) -> Unfiltered:
        ordered = sa.select(*dumper.columns).order_by(*queries.default_order)
        page = ordered.offset(sa.bindparam("offset")).limit(sa.bindparam("limit"))
        return cls(ordered, page, sa.select(sa.func.count()).select_from(model))


@dataclass(frozen=True)
class Endpoint:
    """Everything a view needs about one resource, built once at start-up."""

    registry: ModelRegistry
    resource: ResourceSpec
    model: type[Any]
    queries: QueryBuilder
    search: dict[str, Any] | None
    json_fields: frozenset[str]
    """Fields of type ``json``, whose ``PATCH`` values are merge patches themselves."""
    guard: Guard
    """The resource's security rules, applied to the request's user."""
    dumper: Dumper
    """The resource's output schema, compiled (reads dump rows with it)."""
    unfiltered: Unfiltered
    """The statements of an unfiltered collection in its default order, built once."""
    writer: RowWriter
    """The resource's item ``SELECT``, ``INSERT`` and ``UPDATE`` statements."""

    @classmethod
    def build(cls, registry: ModelRegistry, resource: ResourceSpec, guard: Guard) -> Endpoint:
        model = registry.model(resource.name)
        queries = QueryBuilder(registry.spec, resource, model)
        json_fields = frozenset(f.name for f in resource.fields if f.type == "json")
        search = documents.search_template(resource)
        dumper = schemas_for(registry).dumper(resource)
        unfiltered = Unfiltered.build(model, dumper, queries)
        writer = RowWriter(registry, resource, dumper.columns)
        return cls(
            registry,
            resource,
            model,
            queries,
            search,
            json_fields,
            guard,
            dumper,
            unfiltered,
            writer,
        )

    @property
    def session(self) -> Any:
        return self.registry.db.session

    def find(self, item_id: int) -> Any:
        """The model instance of ``item_id`` for a ``DELETE``, its row locked until the
        transaction ends (``SELECT ... FOR UPDATE`` on PostgreSQL), so that no related item
        is written against it while its cascades are followed; 404 when it is gone."""
        found = item_id <= ID_MAX
        obj = self.session.get(self.model, item_id, with_for_update=True) if found else None
        if obj is None:
            iri = iri_for_id(self.resource, item_id)
            raise NotFound(f"No {self.resource.name} at {iri}: it does not exist or was deleted.")
        return obj

    def _reading(self) -> sa.Connection:
        """A connection of its own for reads that load no model instance: Core
        statements, without the session's ORM execution path and transaction events (a
        read has nothing to flush, and the session is left untouched)."""
        connection: sa.Connection = self.registry.db.engine.connect()
        return connection

    def read(self, item_id: int) -> Any:
        """The row of the item ``item_id`` (its attributes are the model's), as
        :meth:`find` finds it, without loading a model instance."""
        row = None
        if item_id <= ID_MAX:
            with self._reading() as connection:
                row = self.writer.read(connection, item_id)
        if row is None:
            iri = iri_for_id(self.resource, item_id)
            raise NotFound(f"No {self.resource.name} at {iri}: it does not exist or was deleted.")
        return row

    def row_response(self, row: Any, status: int = 200, **headers: str) -> Response:
        """The item document of ``row`` (from :meth:`read`, or as written), in the
        negotiated format, with the item headers and ``headers``."""
        fmt = response_format(request)
        dumper = self.dumper
        if headers:
            headers = {**ITEM_HEADERS, **headers}
        if fmt == "jsonld":
            body = dumper.encode_item(row)
        else:
            body = encode_document(dumper.dump_row(row), plain=dumper.plain_json)
        return encoded_response(body, fmt, status, headers or ITEM_HEADERS)

    def collection(
        self, where: list[Any], order: list[Any], page: Page | None
    ) -> tuple[list[Any], int]:
        """The rows of :attr:`Dumper.columns` matching ``where``, in ``order``, on ``page``
        (all when ``None``), and how many items match, read in one transaction. Counted
        only when the page does not tell (a full page, or an empty one past the first)."""
        unfiltered = self.unfiltered
        with self._reading() as connection:
            if not where and self.queries.is_default_order(order):
                if page is None:
                    rows = list(connection.execute(unfiltered.all))
                else:
                    bounds = {"offset": page.offset, "limit": page.size}
                    rows = list(connection.execute(unfiltered.page, bounds))
            else:
                query = sa.select(*self.dumper.columns).where(*where).order_by(*order)
                if page is not None:
                    query = query.offset(page.offset).limit(page.size)
                rows = list(connection.execute(query))
            if page is None:
                return rows, len(rows)
            if len(rows) < page.size and (rows or page.number == 1):
                return rows, page.offset + len(rows)
            counted = (
                sa.select(sa.func.count()).select_from(self.model).where(*where)
                if where
                else unfiltered.count
            )
            return rows, int(connection.scalar(counted) or 0)

    def members(self, rows: Any, *, jsonld: bool) -> list[dict[str, Any]]:
        """Collection members of ``rows`` of :attr:`Dumper.columns`, as
        :func:`~app.schemas.serialize_members` makes them."""
        dump_row = self.dumper.dump_row
        if not jsonld:
            return [dump_row(row) for row in rows]
        route, name = self.resource.route, self.resource.name
        return [{"@id": f"{route}/{row.id}", "@type": name, **dump_row(row)} for row in rows]

    def load(self, body: dict[str, Any], mode: Mode) -> dict[str, Any]:
        """Validated values whose relations point at existing items."""
        values = load_payload(self.registry, self.resource, body, mode)
        missing: list[Violation] = []
        for relation in self.resource.relations:
            target_id = values.get(relation_column(relation))
            if target_id is None:
                continue
            target = self.registry.spec.resource(relation.target)
            model = self.registry.model(target.name)
            if target_id > ID_MAX or self.session.get(model, target_id) is None:
                iri = iri_for_id(target, target_id)
                missing.append(Violation(relation.name, f'Item not found for "{iri}".'))
        if missing:
            raise ValidationFailed(missing)
        return values

    def create(self, values: dict[str, Any]) -> Response:
        """Insert an item of ``values`` and answer 201 with it and its ``Location``; see
        :meth:`_write`."""
        writer, session = self.writer, self.session()  # the request's own Session

        def respond() -> Response:
            row = writer.insert(session, values)
            iri = item_iri(self.resource, row)
            return self.row_response(row, 201, Location=iri, **{"Content-Location": iri})

        return self._write(respond, values)

    def update(self, stored: Any, values: dict[str, Any]) -> Response:
        """Store ``values`` over the item whose row is ``stored`` and answer 200 with it;
        see :meth:`_write`."""
        writer, session = self.writer, self.session()

        def respond() -> Response:
            return self.row_response(writer.update(session, stored, values))

        return self._write(respond, values)

    def stored(self, item_id: int) -> Any:
        """The row of the item ``item_id``, read in the session's transaction (for a
        write); 404 as :meth:`find`."""
        connection = self.session().connection()
        found = item_id <= ID_MAX
        row = self.writer.read(connection, item_id, for_update=True) if found else None
        if row is None:
            iri = iri_for_id(self.resource, item_id)
            raise NotFound(f"No {self.resource.name} at {iri}: it does not exist or was deleted.")
        return row

    def _write(self, respond: Callable[[], Response], values: dict[str, Any]) -> Response:
        """Write with one statement (:class:`~app.api.writer.RowWriter`), answer with the
        row as written, then commit (the item's update is staged in the transaction).

        The answer is made before the commit, from the row the statement returned, so it
        needs no read-back. A constraint the database refuses, at the statement or at the
        commit, rolls back and becomes a 409 or 422; any other database error goes up to
        the view, which answers 503.
        """
        session = self.session
        try:
            response = respond()
            session.commit()
        except IntegrityError as error:
            session.rollback()
            raise write_error(error, self.resource, values) from None
        return response
