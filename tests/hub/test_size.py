"""How the hub measures updates and reads its size settings.

:func:`app.hub.size.frame_size` must be the length of the frame :func:`app.hub.sse.encode`
writes, for any update, since the hub refuses updates and bounds its history by it
without encoding: a property test compares them.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.hub.settings import (
    DEFAULT_HISTORY_BYTES,
    DEFAULT_MAX_UPDATE_SIZE,
    HubSettings,
    HubSettingsError,
    parse_size,
)
from app.hub.size import frame_size, topics_size, update_size
from app.hub.sse import encode
from app.hub.update import Update

# Every character a Python string may hold but CR, LF and NUL in ids and types (which
# Update refuses), with line breaks and non-ASCII text frequent in data.
_DATA = st.lists(
    st.sampled_from(["\r", "\n", "\r\n", "a", "é", "€", "😀", "\x00", "\u2028"])
    | st.characters(codec="utf-8")
).map("".join)
_FIELD = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"))


@st.composite
def updates(draw: st.DrawFn) -> Update:
    return Update(
        topics=tuple(draw(st.lists(_FIELD, min_size=1, max_size=4))),
        data=draw(_DATA),
        id=draw(_FIELD),
        type=draw(st.none() | _FIELD),
        retry=draw(st.none() | st.integers(min_value=0, max_value=2**64 - 1)),
        private=draw(st.booleans()),
    )


@given(updates())
def test_frame_size_is_the_encoded_length(update: Update) -> None:
    assert frame_size(update) == len(encode(update))


@given(updates())
def test_update_size_adds_the_topics_in_utf8(update: Update) -> None:
    topics = sum(len(topic.encode()) for topic in update.topics)
    assert topics_size(update) == topics
    assert update_size(update) == len(encode(update)) + topics


def test_line_breaks_grow_the_frame_seven_bytes_each() -> None:
    plain = Update(("t",), data="x" * 3, id="i")
    broken = Update(("t",), data="x\nx\rx", id="i")
    crlf = Update(("t",), data="x\r\nx", id="i")
    assert frame_size(broken) == frame_size(plain) + 2 * len("\ndata: ")
    assert frame_size(crlf) == len(b"id: i\ndata: x\ndata: x\n\n")


def test_lone_surrogates_are_measured_without_failing() -> None:
    update = Update(("t",), data="\ud800", id="i")
    assert frame_size(update) == len(b"id: i\ndata: \n\n") + 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("65536", 65536),
        ("65536B", 65536),
        (" 512KiB", 512 << 10),
        ("64 MiB", 64 << 20),
        ("2gib", 2 << 30),
    ],
)
def test_parse_size(raw: str, expected: int) -> None:
    assert parse_size("SIZE", raw) == expected


@pytest.mark.parametrize("raw", ["", "MiB", "1MB", "1.5MiB", "-1", "1 TiB", "1e6", "9" * 19])
def test_parse_size_refuses_by_name(raw: str) -> None:
    with pytest.raises(ValueError, match=r"^SIZE="):
        parse_size("SIZE", raw)


def test_parse_size_minimum() -> None:
    with pytest.raises(ValueError, match="must be at least 1 bytes"):
        parse_size("SIZE", "0", minimum=1)


def test_size_defaults() -> None:
    settings = HubSettings.from_env({})
    assert settings.history_bytes == DEFAULT_HISTORY_BYTES == 64 << 20
    assert settings.max_update_size == DEFAULT_MAX_UPDATE_SIZE == 10 << 20
    assert settings.effective_transport_url == "memory://?history_size=1000"


def test_size_settings_from_the_environment() -> None:
    settings = HubSettings.from_env(
        {"MERCURE_HISTORY_BYTES": "8MiB", "MERCURE_MAX_UPDATE_SIZE": "1048576"}
    )
    assert settings.history_bytes == 8 << 20
    assert settings.max_update_size == 1 << 20
    assert settings.effective_transport_url == (
        f"memory://?history_size=1000&history_bytes={8 << 20}"
    )


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("MERCURE_HISTORY_BYTES", "lots"),
        ("MERCURE_HISTORY_BYTES", "-1"),
        ("MERCURE_MAX_UPDATE_SIZE", "0"),
        ("MERCURE_MAX_UPDATE_SIZE", "10MB"),
    ],
)
def test_unusable_size_settings_are_named(name: str, raw: str) -> None:
    with pytest.raises(HubSettingsError, match=f"^{name}="):
        HubSettings.from_env({name: raw})
