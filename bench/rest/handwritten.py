"""The baseline: the bookshop API written by hand with Flask, Flask-SQLAlchemy and marshmallow.

What a developer would write for the same responses as the generic layer gives for the
shipped ``resources.yaml``: the same tables (it opens a copy of the same SQLite file), the
same JSON-LD documents, byte for byte (compact UTF-8 JSON with the keys in the
gateway's order), and headers for ``GET /books/<id>``, ``GET /books?page=N``,
``POST /books`` and ``PUT``/``PATCH`` (merge patch) on ``/books/<id>``, the same
validation rules, and SQLite foreign keys on as the gateway does. No generic machinery:
one model class, one schema class and one function per route. Writes serialize the book
after the flush and commit after, so that they need no read-back (the commit expires the
book), and publish the same Mercure update as the gateway (see
:func:`create_handwritten_app`).
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request
from flask_sqlalchemy import SQLAlchemy
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from app.hub import Hub, HubSettings, Update
from app.hub.headers import security_headers

JSONLD = "application/ld+json"
JSONLD_UTF8 = "application/ld+json; charset=utf-8"
PROBLEM = "application/problem+json"
MERGE_PATCH = "application/merge-patch+json"
API_DOCUMENTATION = "http://www.w3.org/ns/hydra/core#apiDocumentation"
ASYNCAPI = "application/vnd.aai.asyncapi+json"

SECURITY_HEADERS = security_headers(())

db = SQLAlchemy()


class Book(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "book"
    id = sa.Column(sa.Integer, primary_key=True)
    isbn = sa.Column(sa.String(20), nullable=True, unique=True)
    title = sa.Column(sa.String(255), nullable=False)
    description = sa.Column(sa.Text, nullable=True)
    author = sa.Column(sa.String(255), nullable=False)
    publicationDate = sa.Column("publication_date", sa.Date, nullable=True)  # noqa: N815


class BookSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(dump_only=True)
    isbn = fields.String(allow_none=True, validate=validate.Length(max=20))
    title = fields.String(required=True, validate=validate.Length(max=255))
    description = fields.String(allow_none=True)
    author = fields.String(required=True, validate=validate.Length(max=255))
    publicationDate = fields.Date(allow_none=True)  # noqa: N815


_DATE_OPERATORS = ("before", "strictly_before", "after", "strictly_after")
_VARIABLES = [
    ("title", "title"),
    ("title[]", "title"),
    ("author", "author"),
    ("author[]", "author"),
    ("isbn", "isbn"),
    ("isbn[]", "isbn"),
    *[(f"publicationDate[{op}]", "publicationDate") for op in _DATE_OPERATORS],
    ("exists[description]", "description"),
    ("exists[isbn]", "isbn"),
    ("order[title]", "title"),
    ("order[author]", "author"),
    ("order[publicationDate]", "publicationDate"),
]
SEARCH = {
    "@type": "IriTemplate",
    "template": "/books{?" + ",".join(v for v, _ in _VARIABLES) + "}",
    "variableRepresentation": "BasicRepresentation",
    "mapping": [
        {"@type": "IriTemplateMapping", "variable": v, "property": p, "required": False}
        for v, p in _VARIABLES
    ],
}

book_schema = BookSchema()
books_schema = BookSchema(many=True)


def _dumps(document: Any) -> str:
    """Compact JSON, UTF-8 rather than escapes, keys in the order of the document."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _json(document: Any, status: int = 200, **headers: str) -> Response:
    response = Response(_dumps(document), status=status, content_type=JSONLD_UTF8)
    response.headers["Vary"] = "Accept"
    response.headers.update(headers)
    return response


def _problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": f"/errors/{status}", "title": title, "status": status, "detail": detail}
    return Response(_dumps({**body, **extra}), status=status, mimetype=PROBLEM)


def _item(book: Book) -> dict[str, Any]:
    return {
        "@context": "/contexts/Book",
        "@id": f"/books/{book.id}",
        "@type": "Book",
        **book_schema.dump(book),
    }


def create_handwritten_app(database_url: str, *, mercure: bool = True) -> Flask:
    """The hand-written bookshop API over ``database_url``.

    Every response carries the ``Link`` to the Hydra documentation, as the gateway's.
    ``mercure`` does by hand what the gateway does for its Mercure-enabled resources: the
    AsyncAPI document's and the hub's ``Link`` (after the documentation's, in the same
    header), and for each
    created book, once committed, the update the gateway publishes (its absolute IRI as
    topic, the JSON-LD item as data) handed to a hub in this process, the same hub class
    with the same in-memory transport. Off, it matches a gateway whose resources do not
    publish.
    """
    hub = Hub(HubSettings()) if mercure else None
    app = Flask(__name__)

    @app.before_request
    def assign_request_id() -> None:
        g.request_id = uuid.uuid4().hex

    @app.after_request
    def common_headers(response: Response) -> Response:
        """What every answer of a production API carries: its request id and the
        security headers (the gateway's own values)."""
        response.headers["X-Request-Id"] = g.request_id
        response.headers.update(SECURITY_HEADERS)
        if request.method in ("POST", "PUT", "PATCH"):  # the answer depends on the token
            response.vary.add("Authorization")
        return response

    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db.init_app(app)
    with app.app_context():
        sa.event.listen(db.engine, "connect", _foreign_keys)

    def link() -> dict[str, str]:
        docs = f'<{request.host_url}docs.jsonld>; rel="{API_DOCUMENTATION}"'
        if hub is None:
            return {"Link": docs}
        asyncapi = f'<{request.host_url}docs.asyncapi.json>; rel="describedby"; type="{ASYNCAPI}"'
        hub_link = f'<{request.host_url}.well-known/mercure>; rel="mercure"'
        return {"Link": f"{docs}, {asyncapi}, {hub_link}"}

    @app.get("/books/<int:book_id>")
    def get_book(book_id: int) -> Response:
        book = db.session.get(Book, book_id)
        if book is None:
            return _problem(404, "Not Found", f"No Book with id {book_id}.")
        return _json(_item(book), **{"Accept-Patch": MERGE_PATCH}, **link())

    @app.get("/books")
    def list_books() -> Response:
        try:
            page = max(1, int(request.args.get("page", 1)))
            per_page = min(100, max(0, int(request.args.get("itemsPerPage", 30))))
        except ValueError:
            return _problem(400, "Bad Request", "page and itemsPerPage must be integers.")
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Book)) or 0
        rows = db.session.scalars(
            sa.select(Book).order_by(Book.id).offset((page - 1) * per_page).limit(per_page)
        ).all()
        members = [
            {"@id": f"/books/{row['id']}", "@type": "Book", **row}
            for row in books_schema.dump(rows)
        ]
        document: dict[str, Any] = {
            "@context": "/contexts/Book",
            "@id": "/books",
            "@type": "Collection",
            "totalItems": total,
            "member": members,
        }
        last = max(1, math.ceil(total / per_page)) if per_page else 1
        if last > 1:  # the bench sends no filters: one page has no view
            view = {
                "@id": f"/books?page={page}",
                "@type": "PartialCollectionView",
                "first": "/books?page=1",
                "last": f"/books?page={last}",
            }
            if page > 1:
                view["previous"] = f"/books?page={page - 1}"
            if page < last:
                view["next"] = f"/books?page={page + 1}"
            document["view"] = view
        document["search"] = SEARCH
        return _json(document, **link())

    @app.post("/books")
    def create_book() -> Response:
        if request.mimetype not in (JSONLD, "application/json"):
            return _problem(415, "Unsupported Media Type", "Send application/ld+json.")
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return _problem(400, "Bad Request", "The body is not a JSON object.")
        try:
            values = book_schema.load(payload)
        except ValidationError as error:
            violations = [
                {"propertyPath": key, "message": message}
                for key, messages in error.messages_dict.items()
                for message in messages
            ]
            return _problem(422, "An error occurred", "Invalid body.", violations=violations)
        book = Book(**values)
        db.session.add(book)
        db.session.flush()  # the id exists; serialize before the commit expires the book
        iri = f"/books/{book.id}"
        document = _item(book)
        headers = {"Location": iri, "Content-Location": iri, "Accept-Patch": MERGE_PATCH}
        response = _json(document, 201, **headers, **link())
        db.session.commit()
        if hub is not None:
            publish(iri, document)
        return response

    def publish(iri: str, document: dict[str, Any]) -> None:
        if hub is not None:
            topic = f"{request.host_url.rstrip('/')}{iri}"
            hub.publish(Update(topics=(topic,), data=_dumps(document)))

    def invalid(error: ValidationError) -> Response:
        violations = [
            {"propertyPath": key, "message": message}
            for key, messages in error.messages_dict.items()
            for message in messages
        ]
        return _problem(422, "An error occurred", "Invalid body.", violations=violations)

    @app.route("/books/<int:book_id>", methods=["PUT", "PATCH"])
    def change_book(book_id: int) -> Response:
        patching = request.method == "PATCH"
        expected = (MERGE_PATCH,) if patching else (JSONLD, "application/json")
        if request.mimetype not in expected:
            return _problem(415, "Unsupported Media Type", f"Send {expected[0]}.")
        book = db.session.get(Book, book_id)
        if book is None:
            return _problem(404, "Not Found", f"No Book with id {book_id}.")
        payload = request.get_json(silent=True, force=True)
        if not isinstance(payload, dict):
            return _problem(400, "Bad Request", "The body is not a JSON object.")
        try:
            values = book_schema.load(payload, partial=patching)
        except ValidationError as error:
            return invalid(error)
        for name, value in values.items():
            setattr(book, name, value)
        db.session.flush()  # serialize before the commit expires the book
        iri = f"/books/{book.id}"
        document = _item(book)
        response = _json(document, **{"Accept-Patch": MERGE_PATCH}, **link())
        db.session.commit()
        publish(iri, document)
        return response

    return app


def _foreign_keys(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
