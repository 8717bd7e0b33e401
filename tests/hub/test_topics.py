"""Topic selector matching: ``*``, exact strings and every RFC 6570 operator."""

from __future__ import annotations

import pytest

from app.hub.topics import compile_template, is_template, match, match_any

E = "https://example.com"

MATCHING = [
    # reserved wildcard and exact strings
    ("*", f"{E}/books/1"),
    ("*", ""),
    (f"{E}/books/1", f"{E}/books/1"),
    ("plain-topic", "plain-topic"),
    # a template matches itself (exact comparison comes first)
    (f"{E}/books/{{id}}", f"{E}/books/{{id}}"),
    # {var}: simple string expansion, one path segment, may be empty
    (f"{E}/books/{{id}}", f"{E}/books/1"),
    (f"{E}/books/{{id}}", f"{E}/books/"),
    (f"{E}/books/{{id}}", f"{E}/books/caf%C3%A9"),
    (f"{E}/books/{{id}}/reviews", f"{E}/books/42/reviews"),
    (f"{E}/{{a,b}}", f"{E}/x,y"),
    (f"{E}/{{list*}}", f"{E}/red,green"),
    (f"{E}/{{var:3}}", f"{E}/abc"),
    # {+var}: reserved expansion crosses "/"
    (f"{E}{{+path}}", f"{E}/books/1/reviews"),
    (f"{E}{{+path}}/end", f"{E}/a/b/end"),
    ("{+base}/books/{id}", f"{E}/books/7"),
    # {#var}: fragment expansion, optional
    (f"{E}/page{{#section}}", f"{E}/page#intro"),
    (f"{E}/page{{#section}}", f"{E}/page"),
    (f"{E}/page{{#section}}", f"{E}/page#a/b"),
    # {.var}: label expansion
    (f"{E}/file{{.ext}}", f"{E}/file.json"),
    (f"{E}/file{{.ext}}", f"{E}/file"),
    (f"{E}/host{{.a,b}}", f"{E}/host.x.y"),
    # {/var}: path segments
    (f"{E}{{/seg}}", f"{E}/books"),
    (f"{E}{{/a,b}}", f"{E}/books/1"),
    (f"{E}{{/list*}}", f"{E}/a/b/c"),
    # {;var}: path-style parameters, name alone when empty
    (f"{E}/m{{;x,y}}", f"{E}/m;x=1;y=2"),
    (f"{E}/m{{;x,y}}", f"{E}/m;y=2"),
    (f"{E}/m{{;x}}", f"{E}/m;x"),
    # {?var}: query, any ordered subset of the variables
    (f"{E}/s{{?q,lang}}", f"{E}/s?q=cat&lang=en"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?lang=en"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?q="),
    (f"{E}/s{{?q,lang}}", f"{E}/s"),
    (f"{E}/users/foo/{{?topic}}", f"{E}/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1"),
    # {&var}: query continuation
    (f"{E}/s?fixed=1{{&x,y}}", f"{E}/s?fixed=1&x=2&y=3"),
    (f"{E}/s?fixed=1{{&x}}", f"{E}/s?fixed=1"),
    # several expressions
    (f"{E}/{{kind}}/{{id}}{{?v}}", f"{E}/books/1?v=2"),
]

NOT_MATCHING = [
    (f"{E}/books/1", f"{E}/books/2"),
    (f"{E}/books/1", f"{E}/books/1/"),
    ("plain-topic", "Plain-topic"),
    # {var} never crosses "/" nor takes reserved characters
    (f"{E}/books/{{id}}", f"{E}/books/1/reviews"),
    (f"{E}/books/{{id}}", f"{E}/books/a?b"),
    (f"{E}/books/{{id}}", f"{E}/books/a#b"),
    # anchored at both ends
    (f"{E}/books/{{id}}", f"{E}/books/1x/"),
    (f"{E}/books/{{id}}", f"xx{E}/books/1"),
    (f"{E}/books/{{id}}/reviews", f"{E}/books/1/reviews/2"),
    # {+var} still needs the literal parts
    (f"{E}{{+path}}/end", f"{E}/a/b/other"),
    # {#var} needs the "#"
    (f"{E}/page{{#section}}", f"{E}/page/intro"),
    # {.var} values cannot hold "/"
    (f"{E}/file{{.ext}}", f"{E}/file.js/x"),
    (f"{E}/file{{.ext}}", f"{E}/filejson"),
    # {/var} needs the leading "/"
    (f"{E}/x{{/seg}}", f"{E}/xbooks"),
    # {;var} needs the right names
    (f"{E}/m{{;x}}", f"{E}/m;z=1"),
    # {?var} needs the right names and order
    (f"{E}/s{{?q,lang}}", f"{E}/s?other=1"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?lang=en&q=cat"),
    (f"{E}/s{{?q}}", f"{E}/s&q=1"),
    # {&var} needs "&"
    (f"{E}/s?fixed=1{{&x}}", f"{E}/s?fixed=1?x=2"),
    # invalid templates only match themselves
    (f"{E}/books/{{id", f"{E}/books/1"),
    (f"{E}/books/{{}}", f"{E}/books/"),
    (f"{E}/books/{{i d}}", f"{E}/books/1"),
    (f"{E}/books/{{{{id}}}}", f"{E}/books/1"),
    # exact selectors without "{" are never treated as patterns
    (f"{E}/books/.*", f"{E}/books/1"),
]


@pytest.mark.parametrize(("selector", "topic"), MATCHING)
def test_selector_matches(selector: str, topic: str) -> None:
    assert match(selector, topic)


@pytest.mark.parametrize(("selector", "topic"), NOT_MATCHING)
def test_selector_does_not_match(selector: str, topic: str) -> None:
    assert not match(selector, topic)


@pytest.mark.parametrize(
    ("selector", "template"),
    [("*", False), (f"{E}/books/1", False), (f"{E}/books/{{id}}", True), ("{", True)],
)
def test_only_selectors_with_a_brace_are_templates(selector: str, template: bool) -> None:
    assert is_template(selector) is template


def test_templates_compile_once() -> None:
    template = f"{E}/compiled-once/{{id}}"
    assert compile_template(template) is compile_template(template)


def test_invalid_template_compiles_to_none() -> None:
    assert compile_template(f"{E}/{{unclosed") is None


def test_match_any_needs_one_pair() -> None:
    assert match_any([f"{E}/a", f"{E}/b/{{id}}"], [f"{E}/c", f"{E}/b/1"])
    assert not match_any([f"{E}/a"], [f"{E}/b"])
    assert not match_any([], [f"{E}/b"])
