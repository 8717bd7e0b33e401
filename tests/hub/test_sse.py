"""SSE framing: field order, one data line per line, CR/LF/CRLF, empty data."""

from __future__ import annotations

import pytest

from app.hub.sse import COMMENT, encode, split_lines
from app.hub.update import Update

T = ("https://example.com/books/1",)

FRAMES = [
    (Update(T, data="hello", id="1"), b"id: 1\ndata: hello\n\n"),
    (Update(T, data="", id="1"), b"id: 1\ndata: \n\n"),
    (Update(T, data="a\nb", id="1"), b"id: 1\ndata: a\ndata: b\n\n"),
    (Update(T, data="a\rb", id="1"), b"id: 1\ndata: a\ndata: b\n\n"),
    (Update(T, data="a\r\nb", id="1"), b"id: 1\ndata: a\ndata: b\n\n"),
    (Update(T, data="a\n\nb", id="1"), b"id: 1\ndata: a\ndata: \ndata: b\n\n"),
    (Update(T, data="a\n", id="1"), b"id: 1\ndata: a\ndata: \n\n"),
    (Update(T, data="\r\n\n\r", id="1"), b"id: 1\ndata: \ndata: \ndata: \ndata: \n\n"),
    # form feed, vertical tab and Unicode separators are not SSE line breaks
    (
        Update(T, data="a\fb\vc\u2028d\x85e", id="1"),
        "id: 1\ndata: a\fb\vc\u2028d\x85e\n\n".encode(),
    ),
    (Update(T, data="x", id="1", type="book"), b"event: book\nid: 1\ndata: x\n\n"),
    (Update(T, data="x", id="1", retry=1500), b"retry: 1500\nid: 1\ndata: x\n\n"),
    (
        Update(T, data="x", id="1", type="book", retry=10),
        b"event: book\nretry: 10\nid: 1\ndata: x\n\n",
    ),
    (Update(T, data="x", id="1", retry=0), b"id: 1\ndata: x\n\n"),
    (Update(T, data="caf\u00e9", id="urn:uuid:1"), "id: urn:uuid:1\ndata: caf\u00e9\n\n".encode()),
]


@pytest.mark.parametrize(("update", "frame"), FRAMES)
def test_frame(update: Update, frame: bytes) -> None:
    assert encode(update) == frame


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        ("", [""]),
        ("a", ["a"]),
        ("a\nb", ["a", "b"]),
        ("a\rb", ["a", "b"]),
        ("a\r\nb", ["a", "b"]),
        ("a\n\rb", ["a", "", "b"]),
        ("a\fb", ["a\fb"]),
    ],
)
def test_split_lines(data: str, lines: list[str]) -> None:
    assert split_lines(data) == lines


def test_comment_is_a_bare_colon_line() -> None:
    assert COMMENT == b":\n"


def test_update_without_id_gets_a_urn_uuid() -> None:
    assert encode(Update(T, data="x")).startswith(b"id: urn:uuid:")


@pytest.mark.parametrize(
    "fields",
    [{"id": "a\nb"}, {"id": "a\rb"}, {"id": "a\x00b"}, {"type": "x\ny"}, {"type": "x\r"}],
)
def test_updates_refuse_field_injection(fields: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="contains CR, LF or NUL"):
        Update(T, **fields)
