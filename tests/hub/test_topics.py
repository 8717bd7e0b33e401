"""Topic selector matching: ``*``, exact strings and every RFC 6570 operator, as the reference.

The reference hub matches a template with the regular expression the ``uritemplate`` Go
package derives from it. That expression ignores variable names, prefixes and the order
of named pairs, and lets ``=`` into the values of named operators and exploded variables:
the cases below say so where it surprises. ``data/topic-matching.jsonl.gz`` holds the
reference hub's own answers for 20,017 selector/topic pairs; every one is checked.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from app.hub import topics
from app.hub.subscriber import Subscriber
from app.hub.topics import (
    DEFAULT_LIMITS,
    MAX_LENGTH_CEILING,
    MAX_VARIABLES_CEILING,
    Selection,
    TemplateLimits,
    compile_template,
    is_template,
    match,
    match_any,
    selectors_problem,
)
from app.hub.update import Update
from app.hub.uritemplate import parse, pattern

E = "https://example.com"
REFERENCE = Path(__file__).parent / "data" / "topic-matching.jsonl.gz"

MATCHING = [
    # reserved wildcard and exact strings
    ("*", f"{E}/books/1"),
    ("*", ""),
    (f"{E}/books/1", f"{E}/books/1"),
    ("plain-topic", "plain-topic"),
    # a template matches itself (exact comparison comes first)
    (f"{E}/books/{{id}}", f"{E}/books/{{id}}"),
    # so does a selector that is not a valid template, and one past the limits
    (f"{E}/books/{{id", f"{E}/books/{{id"),
    (
        "{" + ",".join(f"v{i}" for i in range(400)) + "}",
        "{" + ",".join(f"v{i}" for i in range(400)) + "}",
    ),
    # {var}: simple string expansion, one path segment, may be empty
    (f"{E}/books/{{id}}", f"{E}/books/1"),
    (f"{E}/books/{{id}}", f"{E}/books/"),
    (f"{E}/books/{{id}}", f"{E}/books/caf%C3%A9"),
    (f"{E}/books/{{id}}/reviews", f"{E}/books/42/reviews"),
    (f"{E}/{{a,b}}", f"{E}/x,y"),
    (f"{E}/{{list*}}", f"{E}/red,green"),
    (f"{E}/{{var:3}}", f"{E}/abc"),
    # the prefix plays no part
    (f"{E}/{{var:3}}", f"{E}/abcdef"),
    # an exploded variable's values may hold "=" (its pairs)
    (f"{E}/{{keys*}}", f"{E}/a=1,b=2"),
    (f"{E}{{/keys*}}", f"{E}/a=1/b=2"),
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
    # ... whatever the names: the reference's expression does not hold them
    (f"{E}/m{{;x}}", f"{E}/m;z=1"),
    # {?var}: query, any names, in any order, "=" inside values too
    (f"{E}/s{{?q,lang}}", f"{E}/s?q=cat&lang=en"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?lang=en"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?q="),
    (f"{E}/s{{?q,lang}}", f"{E}/s"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?other=1"),
    (f"{E}/s{{?q,lang}}", f"{E}/s?lang=en&q=cat"),
    (f"{E}/s{{?q}}", f"{E}/s?q=a=b"),
    (f"{E}/users/foo/{{?topic}}", f"{E}/users/foo/?topic=https%3A%2F%2Fexample.com%2Fbooks%2F1"),
    # {&var}: query continuation
    (f"{E}/s?fixed=1{{&x,y}}", f"{E}/s?fixed=1&x=2&y=3"),
    (f"{E}/s?fixed=1{{&x}}", f"{E}/s?fixed=1"),
    # several expressions
    (f"{E}/{{kind}}/{{id}}{{?v}}", f"{E}/books/1?v=2"),
    # "'" is a literal character (RFC 6570 errata 6937), "%XX" triplets too
    (f"{E}/it's/{{id}}", f"{E}/it's/1"),
    (f"{E}/caf%C3%A9/{{id}}", f"{E}/caf%C3%A9/1"),
    # literals beyond ASCII
    (f"{E}/café/{{id}}", f"{E}/café/1"),
]

NOT_MATCHING = [
    (f"{E}/books/1", f"{E}/books/2"),
    (f"{E}/books/1", f"{E}/books/1/"),
    ("plain-topic", "Plain-topic"),
    # {var} never crosses "/" nor takes reserved characters
    (f"{E}/books/{{id}}", f"{E}/books/1/reviews"),
    (f"{E}/books/{{id}}", f"{E}/books/a?b"),
    (f"{E}/books/{{id}}", f"{E}/books/a#b"),
    (f"{E}/books/{{id}}", f"{E}/books/a=b"),
    (f"{E}/books/{{id}}", f"{E}/books/caf\u00e9"),
    (f"{E}/books/{{id}}", f"{E}/books/%zz"),
    # anchored at both ends, and at the very end (no final newline slips through)
    (f"{E}/books/{{id}}", f"{E}/books/1x/"),
    (f"{E}/books/{{id}}", f"xx{E}/books/1"),
    (f"{E}/books/{{id}}", f"{E}/books/1\n"),
    (f"{E}/books/{{id}}/reviews", f"{E}/books/1/reviews/2"),
    # {+var} still needs the literal parts
    (f"{E}{{+path}}/end", f"{E}/a/b/other"),
    # {#var} needs the "#"
    (f"{E}/page{{#section}}", f"{E}/page/intro"),
    # {.var} values cannot hold "/"
    (f"{E}/file{{.ext}}", f"{E}/file.js/x"),
    (f"{E}/file{{.ext}}", f"{E}/filejson"),
    # {/var} needs the leading "/", and its values (not exploded) take no "="
    (f"{E}/x{{/seg}}", f"{E}/xbooks"),
    (f"{E}{{/seg}}", f"{E}/a=1"),
    # {?var} needs "?" first, {&var} needs "&"
    (f"{E}/s{{?q}}", f"{E}/s&q=1"),
    (f"{E}/s?fixed=1{{&x}}", f"{E}/s?fixed=1?x=2"),
    # at most as many values as variables, unless one is exploded
    (f"{E}{{/a,b}}", f"{E}/x/y/z"),
    (f"{E}/s{{?q}}", f"{E}/s?q=1&r=2"),
    # invalid templates only match themselves
    (f"{E}/books/{{id", f"{E}/books/1"),
    (f"{E}/books/{{}}", f"{E}/books/"),
    (f"{E}/books/{{i d}}", f"{E}/books/1"),
    (f"{E}/books/{{{{id}}}}", f"{E}/books/1"),
    (f"{E}/books/{{id}}}}", f"{E}/books/1}}"),
    (f"{E}/books/{{=id}}", f"{E}/books/1"),
    (f"{E}/books/{{id:0}}", f"{E}/books/1"),
    (f"{E}/books/{{id:10000}}", f"{E}/books/1"),
    # ... among them literals with a bare "%", a space or U+FFFD
    (f"{E}/100%/{{id}}", f"{E}/100%/1"),
    (f"{E}/a b/{{id}}", f"{E}/a b/1"),
    (f"{E}/\ufffd/{{id}}", f"{E}/\ufffd/1"),
    # exact selectors without "{" are never treated as patterns
    (f"{E}/books/.*", f"{E}/books/1"),
    # a topic with a lone surrogate (invalid UTF-8) matches no template
    (f"{E}/books/{{+id}}", f"{E}/books/\udcff"),
]


@pytest.mark.parametrize(("selector", "topic"), MATCHING)
def test_selector_matches(selector: str, topic: str) -> None:
    assert match(selector, topic)


@pytest.mark.parametrize(("selector", "topic"), NOT_MATCHING)
def test_selector_does_not_match(selector: str, topic: str) -> None:
    assert not match(selector, topic)


def _reference_pairs() -> list[tuple[str, str, bool]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return [(row["selector"], row["topic"], row["match"]) for row in rows]


def test_every_answer_of_the_reference_hub() -> None:
    pairs = _reference_pairs()
    assert len(pairs) == 20017
    differences = [
        (selector, topic, expected)
        for selector, topic, expected in pairs
        if match(selector, topic) is not expected
    ]
    assert differences == []


def test_the_reference_answers_through_a_subscriber_too() -> None:
    for selector, topic, expected in _reference_pairs():
        subscriber = Subscriber([selector], allowed_private=[selector])
        update = Update((topic,), data="", private=True)
        assert subscriber.selects(update) is expected
        assert subscriber.matches(update) is expected


@pytest.mark.parametrize(
    ("selector", "template"),
    [("*", False), (f"{E}/books/1", False), (f"{E}/books/{{id}}", True), ("{", True)],
)
def test_only_selectors_with_a_brace_may_be_templates(selector: str, template: bool) -> None:
    assert is_template(selector) is template


def test_templates_compile_once() -> None:
    template = f"{E}/compiled-once/{{id}}"
    assert compile_template(template) is compile_template(template)


def test_invalid_template_compiles_to_none() -> None:
    assert compile_template(f"{E}/{{unclosed") is None
    assert compile_template(f"{E}/no-brace") is None


def test_match_any_needs_one_pair() -> None:
    assert match_any([f"{E}/a", f"{E}/b/{{id}}"], [f"{E}/c", f"{E}/b/1"])
    assert not match_any([f"{E}/a"], [f"{E}/b"])
    assert not match_any([], [f"{E}/b"])


# -- hostile selectors ---------------------------------------------------------------------

HOSTILE = [
    "{+v0}{+v1}{+v2}{+v3}{+v4}{+v5}{+v6}{+v7}{+v8}X",
    "".join(f"{{+v{i}}}" for i in range(30)) + "X",
    "".join(f"{{#v{i}}}" for i in range(30)) + "X",
    "".join(f"{{v{i}*}}" for i in range(30)) + "X",
    "".join(f"{{.v{i}*}}" for i in range(30)) + "X",
    "".join(f"{{/v{i}*}}" for i in range(30)) + "X",
    "".join(f"{{;v{i}*}}" for i in range(30)) + "X",
    "".join(f"{{?v{i}*}}" for i in range(30)) + "X",
    "".join(f"{{&v{i}*}}" for i in range(30)) + "X",
    "{+" + ",".join(f"v{i}" for i in range(32)) + "}X",
    "https://example.com/" + "{+a}/" * 30 + "X",
]
LONG_TOPICS = [
    "https://example.com/books/" + "1" * 100_000,
    "https://example.com/" + "a/" * 50_000,
    "?a=b&" * 20_000,
    ".a=b;/%41" * 10_000,
]


@pytest.mark.parametrize("selector", HOSTILE)
def test_hostile_selectors_answer_on_long_topics(selector: str) -> None:
    # With a backtracking engine each of these takes longer than the test suite's timeout
    # on the first topic; an automaton reads each topic once.
    for topic in LONG_TOPICS:
        assert not match(selector, topic)
        if selector.startswith("{+"):
            assert match(selector, topic + "X")


def test_hostile_selectors_match_their_expansions() -> None:
    assert match(HOSTILE[0], "https://example.com/books/1X")
    assert match(HOSTILE[5], "/a/b=c/dX")
    assert match(HOSTILE[7], "?a=1&b=2?c=3X")


def test_a_long_variable_list_compiles_to_a_program_of_its_size() -> None:
    variables = 256
    limits = TemplateLimits(max_length=MAX_LENGTH_CEILING, max_variables=MAX_VARIABLES_CEILING)
    selector = "{/" + ",".join(f"v{i}" for i in range(variables)) + "}"
    compiled = compile_template(selector, limits)
    assert compiled is not None
    assert compiled.automaton.ProgramSize() < 40 * variables
    assert compiled.fullmatch("/x" * variables)
    assert not compiled.fullmatch("/x" * (variables + 1))


@pytest.mark.parametrize("padding", ["a", "\U0001f600"])
def test_templates_at_the_ceilings_compile(padding: str) -> None:
    # The largest automata: every variable, then literal characters of 4 UTF-8 bytes.
    limits = TemplateLimits(max_length=MAX_LENGTH_CEILING, max_variables=MAX_VARIABLES_CEILING)
    operators = "+#./;?&"
    expressions = "".join(
        "{" + operators[i % len(operators)] + f"v{i}" + ("*" if i % 2 else "") + "}"
        for i in range(MAX_VARIABLES_CEILING)
    )
    selector = (expressions + padding * MAX_LENGTH_CEILING)[:MAX_LENGTH_CEILING]
    parsed = parse(selector)
    assert parsed is not None
    assert parsed.variables == MAX_VARIABLES_CEILING
    compiled = compile_template(selector, limits)
    assert compiled is not None
    assert compiled.fullmatch(selector[len(expressions) :])
    assert len(pattern(parsed)) > MAX_LENGTH_CEILING


# -- limits --------------------------------------------------------------------------------


def test_templates_past_the_limits_match_only_themselves() -> None:
    limits = TemplateLimits(max_length=40, max_variables=2, max_templates=1)
    long_selector = f"{E}/books/{{id}}/{'x' * 20}"
    assert match(long_selector, f"{E}/books/1/{'x' * 20}")
    assert not match(long_selector, f"{E}/books/1/{'x' * 20}", limits)
    assert match(long_selector, long_selector, limits)
    many = f"{E}/{{a}}/{{b}}/{{c}}"
    assert match(many, f"{E}/1/2/3")
    assert not match(many, f"{E}/1/2/3", limits)
    assert match(f"{E}/{{a}}/{{b}}", f"{E}/1/2", limits)


def test_a_subscriber_compiles_its_selectors_under_its_limits() -> None:
    limits = TemplateLimits(max_variables=1)
    update = Update((f"{E}/1/2",), data="", private=True)
    two = f"{E}/{{a}}/{{b}}"
    assert Subscriber([two], allowed_private=[two]).matches(update)
    assert not Subscriber([two], allowed_private=["*"], limits=limits).matches(update)
    assert not Subscriber(["*"], allowed_private=[two], limits=limits).matches(update)


@pytest.mark.parametrize(
    ("selectors", "problem"),
    [
        ([f"{E}/books/{{id}}"], None),
        ([f"{E}/books/1", "*"], None),
        # exact topics are never refused, whatever their length, braces or not
        ([f"{E}/{'x' * 5000}"], None),
        ([f"{E}/{{{'x' * 5000}"], None),
        (
            [f"{E}/{{id}}/{'x' * 1100}"],
            "longer than 1024 characters (MERCURE_TOPIC_TEMPLATE_MAX_LENGTH)",
        ),
        (
            ["{" + ",".join(f"v{i}" for i in range(400)) + "}"],
            "longer than 1024 characters (MERCURE_TOPIC_TEMPLATE_MAX_LENGTH)",
        ),
        (
            ["{" + ",".join(f"v{i}" for i in range(33)) + "}"],
            "more than 32 variables (MERCURE_TOPIC_TEMPLATE_MAX_VARIABLES)",
        ),
        ([f"{E}/{i}/{{id}}" for i in range(16)], None),
        (
            [f"{E}/{i}/{{id}}" for i in range(17)],
            'More than 16 URI templates in "topic" parameters '
            "(MERCURE_TOPIC_TEMPLATES_PER_SUBSCRIPTION)",
        ),
        # invalid templates are exact topics: they do not count
        ([f"{E}/{i}/{{id}}" for i in range(16)] + [f"{E}/{{bad"], None),
    ],
)
def test_selectors_problem(selectors: list[str], problem: str | None) -> None:
    found = selectors_problem(selectors, DEFAULT_LIMITS)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_a_selection_is_shared_and_remembers_the_last_topics() -> None:
    selectors = (f"{E}/shared/{{id}}", f"{E}/exact")
    selection = Selection.of(selectors)
    assert Selection.of(list(selectors)) is selection
    assert Selection.of(selectors, TemplateLimits(max_variables=2)) is not selection
    topics = (f"{E}/shared/1",)
    assert selection.matches(topics)
    assert selection.matches(topics)
    assert selection.matches((f"{E}/exact",))
    assert not selection.matches((f"{E}/other",))


def test_a_refused_subscription_compiles_nothing() -> None:
    selectors = [f"{E}/refused-{i}/{{id}}" for i in range(17)]
    assert selectors_problem(selectors) is not None
    assert not any(selector in topics._live for selector in selectors)
    assert selectors_problem(selectors[:16]) is None
    assert selectors_problem(selectors[:16] + selectors[:16]) is None
