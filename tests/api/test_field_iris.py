"""A field's ``iri`` (its RDF property) in the Hydra documentation and the JSON-LD context."""

from __future__ import annotations

from app.api import documents, hydra
from app.config.loader import load_text
from tests.publish.gateway import bookshop

VOCAB = "http://localhost:8000/docs.jsonld#"
SPEC = load_text(
    """
resources:
  Author:
    fields:
      name: {type: string, iri: "https://schema.org/name"}
      born: date
  Book:
    fields:
      title: string
    relations:
      author: {target: Author, iri: "https://schema.org/author"}
""",
    "resources.yaml",
    {},
)


def _properties(document: dict[str, object], name: str) -> dict[str, dict[str, object]]:
    classes = document["supportedClass"]
    assert isinstance(classes, list)
    (cls,) = [c for c in classes if c["@id"] == f"#{name}"]
    return {p["title"]: p["property"] for p in cls["supportedProperty"]}


def test_a_field_with_an_iri_is_that_property_in_the_documentation() -> None:
    document = hydra.documentation(SPEC, VOCAB)
    author = _properties(document, "Author")
    assert author["name"]["@id"] == "https://schema.org/name"
    assert author["name"]["range"] == "xmls:string"
    assert author["born"]["@id"] == "#Author/born"
    book = _properties(document, "Book")
    assert book["author"]["@id"] == "https://schema.org/author"
    assert book["author"]["range"] == "#Author"


def test_a_field_with_an_iri_is_that_property_in_the_context() -> None:
    context = documents.context(SPEC, "Author", VOCAB)
    assert context is not None
    _hydra, terms = context["@context"]
    assert terms["name"] == "https://schema.org/name"
    assert terms["born"] == "Author/born"
    book = documents.context(SPEC, "Book", VOCAB)
    assert book is not None
    assert book["@context"][1]["author"] == {"@id": "https://schema.org/author", "@type": "@id"}


def test_the_bookshop_names_its_books_by_their_title() -> None:
    assert bookshop().resource("Book").field("title").iri == "https://schema.org/name"  # type: ignore[union-attr]
