"""RFC 6570 URI templates as Mercure topic selectors: parsing and the language they match.

:func:`parse` accepts exactly the templates the reference hub accepts (it parses selectors
with the ``uritemplate`` v3.0.2 Go package and treats any selector that does not parse as
an exact topic), and :func:`pattern` writes the regular language the reference matches a
topic against, in RE2 syntax, for an automaton that runs in time linear in the topic
(:mod:`app.hub.topics`). Both are pure functions, linear in the template's length.

What a template accepts (the reference's parser):

* literals: the RFC 6570 literal characters, ``'`` included (RFC errata 6937), and
  ``%XX`` triplets; a bare ``%``, a space, ``"<>\\^`|}``, controls, U+FFFD and lone
  surrogates (invalid UTF-8) make the whole selector an exact topic;
* expressions ``{[op]varspec,...}``: operators ``+ # . / ; ? &`` (``= , ! @ |`` are
  reserved and refused), names of ``[A-Za-z0-9_]`` and ``%XX`` with single inner dots,
  a prefix ``:1`` to ``:9999`` or an explode ``*``.

What a template matches (the reference's regular expression; variable names, prefixes
and the order of named pairs play no part):

* a literal matches itself;
* an expression is optional as a whole; when present it is its operator's first
  character (``#``, ``.``, ``/``, ``;``, ``?``, ``&``; none for simple and ``+``) then a
  first value, then at most ``n - 1`` more values each after the operator's separator
  (any number when a variable is exploded);
* a value is any run of characters of its class and ``%XX`` triplets: unreserved
  characters and ``,`` for every operator but ``+`` and ``#``, which also take the
  reserved characters; ``=`` too for the named operators (``;``, ``?``, ``&``) and for an
  exploded variable's values.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Expression", "Template", "VarSpec", "parse", "pattern"]

_VARCHAR = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789ABCDEFabcdef")
_DIGITS = frozenset("0123456789")
_ASCII_LITERALS = frozenset(
    "!#$&'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]_abcdefghijklmnopqrstuvwxyz~"
)
# RFC 6570 ucschar and iprivate ranges beyond ASCII (inclusive).
_WIDE_LITERALS = (
    (0xA0, 0xD7FF),
    (0xE000, 0xF8FF),
    (0xF900, 0xFDCF),
    (0xFDF0, 0xFFEF),
    *((plane, plane + 0xFFFD) for plane in range(0x10000, 0xE0000, 0x10000)),
    (0xE1000, 0xEFFFD),
    (0xF0000, 0xFFFFD),
    (0x100000, 0x10FFFD),
)
_OPERATORS = "+#./;?&"
_RESERVED_OPERATORS = "=,!@|"
MAX_PREFIX = 9999

# operator -> (first, separator, named, reserved characters allowed)
_RULES: dict[str, tuple[str, str, bool, bool]] = {
    "": ("", ",", False, False),
    "+": ("", ",", False, True),
    "#": ("#", ",", False, True),
    ".": (".", ".", False, False),
    "/": ("/", "/", False, False),
    ";": (";", ";", True, False),
    "?": ("?", "&", True, False),
    "&": ("&", "&", True, False),
}
_UNRESERVED_CLASS = r"\-.0-9A-Z_a-z~"
_RESERVED_CLASS = r"!#$&'()*+,/:;=?@\[\]"
_TRIPLET = "%[0-9A-Fa-f]{2}"


@dataclass(frozen=True, slots=True)
class VarSpec:
    """One variable of an expression: its name, prefix length (0: none) and explode flag."""

    name: str
    prefix: int = 0
    explode: bool = False


@dataclass(frozen=True, slots=True)
class Expression:
    """One ``{...}`` expression: its operator (``""`` for simple) and its variables."""

    operator: str
    variables: tuple[VarSpec, ...]


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal strings and expressions, in order."""

    parts: tuple[str | Expression, ...]

    @property
    def expressions(self) -> int:
        """How many expressions the template has."""
        return sum(1 for part in self.parts if isinstance(part, Expression))

    @property
    def variables(self) -> int:
        """How many variables its expressions list, all together."""
        return sum(len(part.variables) for part in self.parts if isinstance(part, Expression))


def _literal_char(char: str) -> bool:
    if char in _ASCII_LITERALS:
        return True
    code = ord(char)
    if code < 0xA0:
        return False
    return any(low <= code <= high for low, high in _WIDE_LITERALS)


def _triplet(text: str, at: int) -> bool:
    return at + 2 < len(text) and text[at + 1] in _HEX and text[at + 2] in _HEX


def _valid_name(name: str) -> bool:
    return bool(name) and not name.startswith(".") and not name.endswith(".") and ".." not in name


def _parse_expression(text: str, at: int) -> tuple[Expression, int] | None:
    """Parse the expression whose ``{`` is at ``at - 1``; return it and the index after ``}``."""
    size = len(text)
    if at >= size:
        return None
    operator = ""
    if text[at] in _OPERATORS:
        operator = text[at]
        at += 1
    elif text[at] in _RESERVED_OPERATORS:
        return None
    variables: list[VarSpec] = []
    while True:
        # A variable name: varchars, %XX triplets, single dots inside.
        start = at
        while at < size:
            char = text[at]
            if char in _VARCHAR:
                at += 1
            elif char == "%":
                if not _triplet(text, at):
                    return None
                at += 3
            elif char == ".":
                if at == start or text[at - 1] == ".":
                    return None
                at += 1
            else:
                break
        if at >= size:
            return None
        name = text[start:at]
        if not _valid_name(name):
            return None
        modifier = text[at]
        prefix = 0
        explode = False
        if modifier == "*":
            explode = True
            at += 1
        elif modifier == ":":
            at += 1
            digits = at
            while at < size and text[at] in _DIGITS:
                if at == digits and text[at] == "0":
                    return None
                at += 1
                if at - digits > 4:
                    return None
            if at == digits:
                return None
            prefix = int(text[digits:at])
        variables.append(VarSpec(name, prefix, explode))
        if at >= size:
            return None
        if text[at] == "}":
            return Expression(operator, tuple(variables)), at + 1
        if text[at] != ",":
            return None
        at += 1


def parse(text: str) -> Template | None:
    """Parse ``text`` as the reference does; ``None`` when it is not a valid template.

    Linear in ``len(text)``. Any text parses to a template or ``None``, never raises.
    """
    parts: list[str | Expression] = []
    size = len(text)
    start = at = 0
    while at < size:
        char = text[at]
        if char == "{":
            if at > start:
                parts.append(text[start:at])
            parsed = _parse_expression(text, at + 1)
            if parsed is None:
                return None
            expression, at = parsed
            parts.append(expression)
            start = at
        elif char == "%":
            if not _triplet(text, at):
                return None
            at += 3
        elif _literal_char(char):
            at += 1
        else:
            return None
    if size > start:
        parts.append(text[start:])
    return Template(tuple(parts))


def _escape(literal: str) -> str:
    # ASCII punctuation is escaped with a backslash, which RE2 reads as the character
    # itself; letters, digits and non-ASCII characters (UTF-8) stand for themselves.
    return "".join(
        "\\" + char if char.isascii() and not char.isalnum() else char for char in literal
    )


def _value(reserved: bool, equals: bool) -> str:
    if reserved:
        chars = _UNRESERVED_CLASS + _RESERVED_CLASS
    else:
        chars = "," + ("=" if equals else "") + _UNRESERVED_CLASS
    return f"(?:[{chars}]|{_TRIPLET})*"


def _expression_pattern(expression: Expression) -> str:
    first, separator, named, reserved = _RULES[expression.operator]
    variables = expression.variables
    exploded = any(variable.explode for variable in variables)
    body = _value(reserved, named or variables[0].explode)
    if len(variables) > 1 or exploded:
        more = f"(?:{_escape(separator)}{_value(reserved, named or exploded)})"
        body += f"{more}*" if exploded else f"{more}{{0,{len(variables) - 1}}}"
    return f"(?:{_escape(first)}{body})?"


def pattern(template: Template) -> str:
    """The RE2 pattern (to be matched against a whole topic) of ``template``'s language.

    Its size is linear in the template's: a literal grows by at most 2x, an expression
    of ``n`` variables gives ``O(n)`` once RE2 unrolls the counted repetition.
    """
    return "".join(
        _escape(part) if isinstance(part, str) else _expression_pattern(part)
        for part in template.parts
    )
