"""Updates survive the text form used by the Redis and SQLite transports."""

from __future__ import annotations

import pytest

from app.hub.transport.codec import UpdateDecodeError, decode_update, encode_update
from app.hub.update import Update


@pytest.mark.parametrize(
    "update",
    [
        Update(("https://e.com/b/1",), id="urn:uuid:1"),
        Update(("https://e.com/b/1", "https://e.com/alt"), data="a\r\nb\nc", id="2"),
        Update(("t",), data="", private=True, id="3", type="created", retry=0),
        Update(("t",), data="é ✓ \u2028", id="4", retry=2500),
        Update(("t",), data='{"json": [1, "x"]}', id="5", type=""),
        Update(("t",), id="6", key="0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ],
)
def test_round_trip(update: Update) -> None:
    text = encode_update(update)
    assert decode_update(text) == update
    assert decode_update(text.encode()) == update


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "corrupt stored update"),
        ("[1, 2]", "unknown stored update format"),
        ('{"v": 99, "i": "x", "t": ["t"]}', "unknown stored update format"),
        ('{"v": 1, "t": ["t"]}', "corrupt stored update"),
        ('{"v": 1, "i": "x", "t": []}', "corrupt stored update"),
    ],
)
def test_unreadable_text_is_an_error(text: str, message: str) -> None:
    with pytest.raises(UpdateDecodeError, match=message):
        decode_update(text)
