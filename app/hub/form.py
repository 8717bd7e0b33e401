"""The publish form, read as the reference hub's Go ``Request.ParseForm`` reads it.

Pure except :func:`read_post_form`, which reads a request body. Werkzeug's form parsing is
lenient where Go's is strict (bad escapes, ``;`` separators, invalid UTF-8, multipart
bodies); publishers written against the reference hub expect Go's answers, so the hub
parses the form here with :func:`urllib.parse.parse_qsl` behind Go's checks, and quotes
values in error messages as Go's ``%q`` does.
"""

from __future__ import annotations

import re
from typing import IO
from urllib.parse import parse_qsl

__all__ = [
    "FORM_MEDIA_TYPE",
    "MAX_FORM_SIZE",
    "FormError",
    "go_quote",
    "parse_form",
    "parse_uint64",
    "read_post_form",
]

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
# The most a publish body may hold, as Go's Request.ParseForm reads (10 MiB); more is a 400.
MAX_FORM_SIZE = 10 << 20
_UINT64_MAX = 2**64 - 1
_UNSIGNED = re.compile(r"[0-9]+")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_GO_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


class FormError(ValueError):
    """A body or query string that Go's ``Request.ParseForm`` refuses (answered 400)."""


def parse_form(raw: bytes) -> dict[str, list[str]]:
    """Parse a query string or form body exactly as Go's ``url.ParseQuery`` does.

    Segments are split on ``&`` (blank ones skipped), a segment without ``=`` is a name
    with an empty value, ``+`` is a space. A ``;`` anywhere or a ``%`` not followed by two
    hex digits raises :class:`FormError`. Unescaping works on bytes, as in Go, and the
    result is then decoded as UTF-8 with ``surrogateescape``: invalid UTF-8 comes back as
    lone surrogates (``%FF`` is ``"\\udcff"``), so callers can refuse it by name.
    """
    if b";" in raw or _BAD_ESCAPE.search(raw):
        raise FormError("invalid semicolon separator or percent-escape")
    form: dict[str, list[str]] = {}
    # Latin-1 maps bytes to code points one to one: the unescaped bytes are kept as sent.
    for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
        form.setdefault(_utf8(name), []).append(_utf8(value))
    return form


def _utf8(latin1: str) -> str:
    return latin1.encode("latin-1").decode("utf-8", "surrogateescape")


def read_post_form(stream: IO[bytes], media_type: str, query_string: bytes) -> dict[str, list[str]]:
    """The publish form, as Go's ``Request.ParseForm`` leaves it in ``PostForm``.

    Only an ``application/x-www-form-urlencoded`` body is read (any other type, multipart
    included, gives an empty form), at most :data:`MAX_FORM_SIZE` bytes of it. The query
    string is parsed too, only to be checked, as ``ParseForm`` does. Raises
    :class:`FormError` for a larger body or anything :func:`parse_form` refuses.
    """
    parse_form(query_string)
    if media_type != FORM_MEDIA_TYPE:
        return {}
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FORM_SIZE:
        chunk = stream.read(MAX_FORM_SIZE + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_FORM_SIZE:
        raise FormError("http: POST too large")
    return parse_form(b"".join(chunks))


def parse_uint64(value: str) -> int | None:
    """``value`` as Go's ``strconv.ParseUint(value, 10, 64)`` reads it, else ``None``."""
    if not _UNSIGNED.fullmatch(value):
        return None
    digits = value.lstrip("0")  # int() refuses over 4300 digits; Go takes any leading zeros
    if len(digits) > 20:
        return None
    number = int(digits or "0")
    return number if number <= _UINT64_MAX else None


def go_quote(value: str) -> str:
    """``value`` quoted as Go's ``strconv.Quote`` (``%q``) quotes it.

    Printable characters (``str.isprintable`` and Go's ``unicode.IsPrint`` agree: letters,
    marks, numbers, punctuation, symbols and the ASCII space) stay; ``"`` and ``\\`` are
    escaped; controls become ``\\a``... or ``\\xNN``, other characters ``\\uNNNN`` or
    ``\\UNNNNNNNN``; a lone surrogate from ``surrogateescape`` is the invalid byte it
    stands for, ``\\xNN``.
    """
    quoted = ['"']
    for char in value:
        code = ord(char)
        if char in _GO_ESCAPES:
            quoted.append(_GO_ESCAPES[char])
        elif 0xDC80 <= code <= 0xDCFF:
            quoted.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable():
            quoted.append(char)
        elif code < 0x20 or code == 0x7F:
            quoted.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            quoted.append("\\ufffd")  # not a valid rune: Go writes U+FFFD
        elif code < 0x10000:
            quoted.append(f"\\u{code:04x}")
        else:
            quoted.append(f"\\U{code:08x}")
    quoted.append('"')
    return "".join(quoted)
