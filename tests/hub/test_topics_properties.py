"""Property tests of the topic matcher against models written independently of it.

* Parsing accepts exactly what a regular grammar of RFC 6570 templates (as the reference's
  parser reads them) accepts.
* A template expanded with random values (RFC 6570 section 3.2) matches its expansion.
* On small templates, matching agrees with a backtracking matcher written straight from the
  description of the reference's language (:mod:`app.hub.uritemplate`), for expansions,
  mutated expansions and random text.
* No text, as selector or topic, raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.hub.topics import Selection, match, selectors_problem
from app.hub.uritemplate import Expression, Template, VarSpec, parse

# -- a grammar of the templates the reference accepts --------------------------------------

_WIDE = (
    "\u00a0-\ud7ff\ue000-\uf8ff\uf900-\ufdcf\ufdf0-\uffef"
    + "".join(f"{chr(plane)}-{chr(plane + 0xFFFD)}" for plane in range(0x10000, 0xE0000, 0x10000))
    + "\U000e1000-\U000efffd\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_TRIPLET = "%[0-9A-Fa-f]{2}"
_LITERAL = rf"(?:[!#$&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~{_WIDE}]|{_TRIPLET})"
_VARCHAR = rf"(?:[A-Za-z0-9_]|{_TRIPLET})"
_VARSPEC = rf"{_VARCHAR}+(?:\.{_VARCHAR}+)*(?::[1-9][0-9]{{0,3}}|\*)?"
_EXPRESSION = rf"\{{[+#./;?&]?{_VARSPEC}(?:,{_VARSPEC})*\}}"
GRAMMAR = re.compile(rf"(?:{_LITERAL}|{_EXPRESSION})*")

TEMPLATE_CHARS = list("{}+#./;?&=,!@|:*%09aF_-~ 'X\"<>\\^`\u00e9\ufffd\U0001f600")


@given(st.text(alphabet=st.sampled_from(TEMPLATE_CHARS), max_size=30))
@settings(max_examples=1500, deadline=None)
def test_parse_accepts_exactly_the_grammar(text: str) -> None:
    assert (parse(text) is not None) is bool(GRAMMAR.fullmatch(text))


@given(st.text(max_size=60))
@settings(deadline=None)
def test_parse_accepts_exactly_the_grammar_on_any_text(text: str) -> None:
    assert (parse(text) is not None) is bool(GRAMMAR.fullmatch(text))


# -- random templates ----------------------------------------------------------------------

LITERAL_CHARS = list("!#$&'()*+,-./:;=?@[]_~") + list("aZ09") + ["é", "中", "\U0001f600"]
OPERATORS = ["", "+", "#", ".", "/", ";", "?", "&"]
NAMES = ["a", "b", "c", "x_1", "v.w", "A%41"]


@st.composite
def literals(draw: st.DrawFn) -> str:
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(LITERAL_CHARS),
                st.sampled_from(["%41", "%2F", "%c3%a9"]),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return "".join(pieces)


@st.composite
def expressions(draw: st.DrawFn) -> Expression:
    operator = draw(st.sampled_from(OPERATORS))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    variables = []
    for name in names:
        kind = draw(st.sampled_from(["plain", "plain", "prefix", "explode"]))
        prefix = draw(st.integers(1, 9999)) if kind == "prefix" else 0
        variables.append(VarSpec(name, prefix, kind == "explode"))
    return Expression(operator, tuple(variables))


@st.composite
def templates(draw: st.DrawFn, max_expressions: int = 3) -> Template:
    parts: list[str | Expression] = []
    for _ in range(draw(st.integers(1, max_expressions))):
        if draw(st.booleans()):
            parts.append(draw(literals()))
        parts.append(draw(expressions()))
    if draw(st.booleans()):
        parts.append(draw(literals()))
    return Template(tuple(parts))


def render(template: Template) -> str:
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        specs = []
        for variable in part.variables:
            modifier = f":{variable.prefix}" if variable.prefix else ""
            specs.append(variable.name + modifier + ("*" if variable.explode else ""))
        out.append("{" + part.operator + ",".join(specs) + "}")
    return "".join(out)


@given(templates())
def test_rendered_templates_parse_back(template: Template) -> None:
    parsed = parse(render(template))
    assert parsed is not None
    merged: list[str | Expression] = []
    for part in template.parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    assert parsed.parts == tuple(merged)


# -- RFC 6570 expansion (section 3.2) ------------------------------------------------------

UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
RESERVED = set(":/?#[]@!$&'()*+,;=")
# operator -> (first, separator, named, if empty, reserved allowed)
RULES = {
    "": ("", ",", False, "", False),
    "+": ("", ",", False, "", True),
    "#": ("#", ",", False, "", True),
    ".": (".", ".", False, "", False),
    "/": ("/", "/", False, "", False),
    ";": (";", ";", True, "", False),
    "?": ("?", "&", True, "=", False),
    "&": ("&", "&", True, "=", False),
}
Value = str | list[str] | dict[str, str]


def encode(value: str, reserved: bool) -> str:
    out = []
    index = 0
    while index < len(value):
        char = value[index]
        if reserved and re.fullmatch(r"%[0-9A-Fa-f]{2}", value[index : index + 3]):
            out.append(value[index : index + 3])
            index += 3
            continue
        if char in UNRESERVED or (reserved and char in RESERVED):
            out.append(char)
        else:
            out.append("".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass")))
        index += 1
    return "".join(out)


def expand_variable(variable: VarSpec, value: Value, operator: str) -> str:
    _first, separator, named, if_empty, reserved = RULES[operator]
    name = variable.name

    def pair(key: str, text: str) -> str:
        return key + ("=" + text if text else if_empty)

    if isinstance(value, str):
        text = encode(value[: variable.prefix] if variable.prefix else value, reserved)
        return pair(name, text) if named else text
    items: list[tuple[str, str]] = (
        [(encode(k, reserved), encode(v, reserved)) for k, v in value.items()]
        if isinstance(value, dict)
        else [("", encode(v, reserved)) for v in value]
    )
    if not variable.explode:
        joined = ",".join(f"{k},{v}" if isinstance(value, dict) else v for k, v in items)
        return name + "=" + joined if named else joined
    if isinstance(value, dict):
        return separator.join(pair(k, v) if named else f"{k}={v}" for k, v in items)
    return separator.join(pair(name, v) if named else v for _k, v in items)


def expand(template: Template, values: dict[str, Value]) -> str:
    out = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        first, separator, _named, _if_empty, _reserved = RULES[part.operator]
        expanded = [
            expand_variable(variable, value, part.operator)
            for variable in part.variables
            if (value := values.get(variable.name)) is not None and value not in ([], {})
        ]
        if expanded:
            out.append(first + separator.join(expanded))
    return "".join(out)


def reference_gap(template: Template, values: dict[str, Value]) -> bool:
    """The expansions the reference does not match, so neither do we.

    Its expression lets ``=`` into the first value of a simple, ``.`` or ``/`` expression
    only when the expression's first variable is exploded: the ``key=value`` pairs of an
    exploded associative array whose variable comes first among the defined ones but not
    first in the expression are refused.
    """
    for part in template.parts:
        if not isinstance(part, Expression) or part.operator not in ("", ".", "/"):
            continue
        defined = [
            variable
            for variable in part.variables
            if values.get(variable.name) not in (None, [], {})
        ]
        if (
            defined
            and defined[0].explode
            and isinstance(values[defined[0].name], dict)
            and not part.variables[0].explode
        ):
            return True
    return False


TEXT = st.text(alphabet=st.sampled_from(list("ab9-._~ /?#=&,;:%é中'")), max_size=5)
VALUES = st.one_of(
    TEXT,
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT.filter(bool), TEXT, max_size=3),
)


@given(templates(), st.dictionaries(st.sampled_from(NAMES), VALUES))
@settings(max_examples=500, deadline=None)
def test_a_template_matches_its_expansions(template: Template, values: dict[str, Value]) -> None:
    for part in template.parts:
        if isinstance(part, Expression):
            for variable in part.variables:
                # A prefix applies to strings only (RFC 6570 section 2.4.1).
                if variable.prefix:
                    assume(isinstance(values.get(variable.name, ""), str))
    assume(not reference_gap(template, values))
    assert match(render(template), expand(template, values))


# -- a backtracking model of the reference's language --------------------------------------

_U = UNRESERVED
_R = UNRESERVED | RESERVED


@dataclass(frozen=True)
class Model:
    """Does a topic belong to a parsed template's language? By exhaustive search."""

    template: Template
    topic: str

    def value_ends(self, start: int, chars: set[str]) -> list[int]:
        """Every end of a run of ``chars`` and %XX triplets starting at ``start``."""
        ends = [start]
        at = start
        topic = self.topic
        while at < len(topic):
            if re.fullmatch(r"%[0-9A-Fa-f]{2}", topic[at : at + 3]):
                at += 3
            elif topic[at] in chars:
                at += 1
            else:
                break
            ends.append(at)
        return ends

    def expression_ends(self, expression: Expression, start: int) -> set[int]:
        first, separator, named, _if_empty, reserved = RULES[expression.operator]
        variables = expression.variables
        exploded = any(variable.explode for variable in variables)
        base = set(_R if reserved else _U | {","})
        first_chars = base | ({"="} if named or variables[0].explode else set())
        more_chars = base | ({"="} if named or exploded else set())
        ends = {start}  # the expression is optional
        if not self.topic.startswith(first, start):
            return ends
        limit = None if exploded else len(variables) - 1
        frontier = set(self.value_ends(start + len(first), first_chars))
        ends |= frontier
        count = 0
        while frontier and (limit is None or count < limit):
            count += 1
            following: set[int] = set()
            for end in frontier:
                if self.topic.startswith(separator, end):
                    following.update(self.value_ends(end + len(separator), more_chars))
            frontier = following - ends if limit is None else following
            ends |= following
        return ends

    def matches(self) -> bool:
        parts = self.template.parts

        @cache
        def from_part(index: int, at: int) -> bool:
            if index == len(parts):
                return at == len(self.topic)
            part = parts[index]
            if isinstance(part, str):
                return self.topic.startswith(part, at) and from_part(index + 1, at + len(part))
            return any(from_part(index + 1, end) for end in self.expression_ends(part, at))

        return from_part(0, 0)


@st.composite
def topics_for(draw: st.DrawFn, template: Template) -> str:
    values = draw(st.dictionaries(st.sampled_from(NAMES), VALUES))
    topic = expand(template, values)
    action = draw(st.sampled_from(["keep", "insert", "delete", "random"]))
    if action == "random":
        return draw(st.text(alphabet=st.sampled_from(list("ab,=&?#./;:%41é'X")), max_size=12))
    if action == "keep" or not topic:
        return topic
    at = draw(st.integers(0, len(topic) - 1))
    if action == "delete":
        return topic[:at] + topic[at + 1 :]
    return topic[:at] + draw(st.sampled_from(list(",=&?#./;:%Xé"))) + topic[at:]


@given(st.data())
@settings(max_examples=1500, deadline=None)
def test_matching_agrees_with_a_backtracking_model(data: Any) -> None:
    template = data.draw(templates(max_expressions=3))
    topic = data.draw(topics_for(template))
    selector = render(template)
    expected = selector == topic or Model(template, topic).matches()
    assert match(selector, topic) is expected


# -- robustness ----------------------------------------------------------------------------


@given(st.text(), st.text())
@settings(deadline=None)
def test_no_text_raises(selector: str, topic: str) -> None:
    assert isinstance(match(selector, topic), bool)
    assert isinstance(match("{+a}" + selector, topic), bool)
    assert isinstance(match(selector, selector), bool)
    assert match(selector, selector)
    problem = selectors_problem([selector, "{" + selector + "}"])
    assert problem is None or "MERCURE_TOPIC_TEMPLATE" in problem
    assert isinstance(Selection.of([selector, "{" + selector]).matches((topic,)), bool)


@given(st.text(alphabet=st.sampled_from(TEMPLATE_CHARS), max_size=40), st.text(max_size=40))
@settings(deadline=None)
def test_no_template_like_text_raises(selector: str, topic: str) -> None:
    assert isinstance(match(selector, topic), bool)
