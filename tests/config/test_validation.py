"""Structural errors: unknown keys, wrong types, bad names; each names line, key and fix."""

from __future__ import annotations

from collections.abc import Callable

import pytest

CASES = [
    pytest.param(
        """
        resources:
          Book:
            fields:
              title:
                type: string
                requred: true
        """,
        "6: unknown key 'requred' at resources.Book.fields.title; did you mean 'required'?",
        id="unknown-field-option",
    ),
    pytest.param(
        """
        resource:
          Book: {fields: {title: string}}
        """,
        "1: unknown key 'resource'; did you mean 'resources'?",
        id="unknown-top-level-key",
    ),
    pytest.param(
        """
        api: {title: Shop}
        """,
        "1: missing key 'resources'; add 'resources:'",
        id="missing-resources",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            paginaton: {enabled: false}
        """,
        "4: unknown key 'paginaton' at resources.Book; did you mean 'pagination'?",
        id="unknown-resource-key",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            florp: 1
        """,
        "4: unknown key 'florp' at resources.Book; accepted keys: route, table,",
        id="unknown-key-lists-accepted",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {max_length: 3}
        """,
        "4: missing key 'type' at resources.Book.fields.title; add 'type:'",
        id="missing-type",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: strin}
        """,
        "4: unknown value 'strin' at resources.Book.fields.title.type; did you mean 'string'?",
        id="misspelled-type",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: strng
        """,
        "4: unknown value 'strng' at resources.Book.fields.title; did you mean 'string'?",
        id="misspelled-type-shorthand",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: [string]
        """,
        "4: invalid value (a list) at resources.Book.fields.title; expected one of string,",
        id="field-is-list",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, required: "yes"}
        """,
        "4: invalid value 'yes' at resources.Book.fields.title.required; "
        "expected a boolean (true or false)",
        id="boolean-expected",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, max_length: 0}
        """,
        "4: value 0 is too small at resources.Book.fields.title.max_length; use an integer >= 1",
        id="integer-minimum",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, max_length: 2.5}
        """,
        "4: invalid value 2.5 at resources.Book.fields.title.max_length; expected an integer",
        id="integer-expected",
    ),
    pytest.param(
        """
        api:
          version: 1.0
        resources:
          Book: {fields: {title: string}}
        """,
        "2: invalid value 1.0 at api.version; expected a string; quote it: '1.0'",
        id="string-expected-quote-hint",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            operations: get
        """,
        "4: invalid value 'get' at resources.Book.operations; expected a list of",
        id="list-expected",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            operations:
              - get
              - delte
        """,
        "6: unknown value 'delte' at resources.Book.operations[1]; did you mean 'delete'?",
        id="unknown-operation",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            operations: [get, get]
        """,
        "4: duplicate entry 'get' at resources.Book.operations[1]; list each entry once",
        id="duplicate-list-entry",
    ),
    pytest.param(
        """
        resources:
          book_review:
            fields: {title: string}
        """,
        "2: resource name 'book_review' is not PascalCase at resources.book_review; "
        "rename it to 'BookReview'",
        id="resource-name-not-pascal-case",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              first-name: string
        """,
        "4: name 'first-name' is not a valid identifier at resources.Book.fields.first-name",
        id="field-name-not-identifier",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              id: integer
        """,
        "4: name 'id' is reserved at resources.Book.fields.id; choose another name",
        id="reserved-id",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              metadata: json
        """,
        "4: name 'metadata' is reserved at resources.Book.fields.metadata",
        id="reserved-model-attribute",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              class: string
        """,
        "4: name 'class' is a Python keyword at resources.Book.fields.class",
        id="keyword",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            relations:
              _owner: {target: Book}
        """,
        "5: name '_owner' is not a valid identifier at resources.Book.relations._owner",
        id="relation-name",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            mercure:
              private: true
              topic: [/books]
        """,
        "6: unknown key 'topic' at resources.Book.mercure; did you mean 'topics'?",
        id="mercure-unknown-option",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            mercure: yes
        """,
        "4: invalid value 'yes' at resources.Book.mercure; expected a boolean (true or false)"
        " or a mapping with keys private, topics,",
        id="mercure-not-boolean",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            mercure: {retry: -1}
        """,
        "4: value -1 is too small at resources.Book.mercure.retry; use an integer >= 0",
        id="mercure-retry",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            filters:
              search: {title: fuzzy}
        """,
        "5: unknown value 'fuzzy' at resources.Book.filters.search.title; use one of exact,",
        id="unknown-search-strategy",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            order:
              default: {title: ascending}
        """,
        "5: unknown value 'ascending' at resources.Book.order.default.title; did you mean 'asc'?",
        id="unknown-direction",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            relations:
              author: {on_delete: cascade}
        """,
        "5: missing key 'target' at resources.Book.relations.author; add 'target:'",
        id="relation-missing-target",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            relations:
              author: {target: Book, on_delete: nullify}
        """,
        "5: unknown value 'nullify' at resources.Book.relations.author.on_delete; "
        "use one of restrict, cascade, set_null",
        id="unknown-on-delete",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, description: {$env: 12}}
        """,
        "4: invalid environment reference at resources.Book.fields.title.description; "
        "write it as {$env: VARIABLE_NAME}",
        id="bad-env-reference",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, description: {$env: DESC, default: x}}
        """,
        "4: invalid environment reference at resources.Book.fields.title.description",
        id="env-reference-with-extra-key",
    ),
    pytest.param(
        """
        resources:
          - Book
        """,
        "1: invalid value (a list) at resources; expected a mapping of <Resource> ->",
        id="resources-not-mapping",
    ),
    pytest.param(
        """
        - just a list
        """,
        "1: invalid value (a list); expected a mapping with keys api, resources",
        id="document-not-mapping",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
        # nothing else
        resources:
          Other: {}
        """,
        "5: duplicate key 'resources'; keep one of the repeated keys, or merge them",
        id="duplicate-yaml-key",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: [string}
        """,
        "3: invalid YAML:",
        id="yaml-syntax-error",
    ),
    pytest.param("# only a comment\n", "1: the file is empty", id="empty-file"),
    pytest.param(
        """
        resources:
          Book:
            fields: {title: string}
            allow_extra_attributes: sometimes
        """,
        "4: invalid value 'sometimes' at resources.Book.allow_extra_attributes; expected a "
        "boolean (true or false)",
        id="allow-extra-attributes-not-a-boolean",
    ),
    pytest.param(
        """
        resources:
          Book:
            fields:
              title: {type: string, iri: name}
        """,
        "4: iri 'name' is not an absolute IRI at resources.Book.fields.title.iri; write the "
        "full IRI of an RDF property, for example https://schema.org/name",
        id="iri-not-absolute",
    ),
    pytest.param(
        """
        resources:
          Book: {fields: {title: string}}
          Review:
            relations:
              book: {target: Book, iri: "https://schema.org/ about"}
        """,
        "5: iri 'https://schema.org/ about' is not an absolute IRI at "
        "resources.Review.relations.book.iri",
        id="iri-with-a-space",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_structural_error_names_line_key_and_fix(
    problems: Callable[..., list[str]], text: str, expected: str
) -> None:
    found = problems(text)
    assert any(line.startswith(expected) for line in found), found


def test_every_problem_is_reported_at_once(problems: Callable[..., list[str]]) -> None:
    found = problems(
        """
        api: {titel: Shop}
        resources:
          Book:
            fields:
              title: {type: string, requred: true}
              rating: {type: integr}
            operations: [get, pots]
            mercure: {privat: true}
        """
    )
    assert [line.split(":")[0] for line in found] == ["1", "5", "6", "7", "8"]
    assert "did you mean 'title'?" in found[0]
    assert "did you mean 'required'?" in found[1]
    assert "did you mean 'integer'?" in found[2]
    assert "did you mean 'post'?" in found[3]
    assert "did you mean 'private'?" in found[4]


def test_missing_environment_variable_is_named(problems: Callable[..., list[str]]) -> None:
    found = problems(
        """
        resources:
          Book:
            fields: {title: string}
            mercure:
              hub: {$env: BOOKSHOP_HUB}
              retry: {$env: BOOKSHOP_RETRY}
        """,
        {"BOOKSHOP_RETRY": "soon"},
    )
    assert found == [
        "5: environment variable 'BOOKSHOP_HUB' is not set at resources.Book.mercure.hub; "
        "set BOOKSHOP_HUB in the environment or replace the reference with a value",
        "6: invalid value 'soon' (from $BOOKSHOP_RETRY) at resources.Book.mercure.retry; "
        "expected an integer >= 0",
    ]


def test_impossible_date_is_a_config_error(problems: Callable[..., list[str]]) -> None:
    found = problems(
        "resources:\n  Book:\n    fields:\n      d: {type: date, default: 2024-13-40}\n"
    )
    assert found == [
        "1: invalid YAML value: month must be in 1..12; quote values that only look like "
        "dates or numbers, e.g. '2024-13-40'"
    ]
