"""Properties of the hub's wire formats, over any input: the publish form parser (Go's
``url.ParseQuery``) and SSE framing (read back by the WHATWG event-stream algorithm)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from app.hub.form import FormError, parse_form
from app.hub.sse import encode
from app.hub.update import Update

# Text a client can send: any code point but lone surrogates (not encodable in UTF-8).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
forms = st.dictionaries(text, st.lists(text, min_size=1, max_size=3), max_size=5)


@given(form=forms)
def test_an_encoded_form_parses_back_to_itself(form: dict[str, list[str]]) -> None:
    raw = urlencode([(name, value) for name, values in form.items() for value in values])
    assert parse_form(raw.encode()) == form


@given(raw=st.binary(max_size=64))
def test_any_bytes_parse_or_are_refused_as_go_refuses_them(raw: bytes) -> None:
    try:
        form = parse_form(raw)
    except FormError:
        assert b";" in raw or re.search(rb"%(?![0-9A-Fa-f]{2})", raw)
        return
    assert b";" not in raw
    for name, values in form.items():
        assert isinstance(name, str)
        assert all(isinstance(value, str) for value in values)


def read_event_stream(stream: str) -> list[dict[str, str]]:
    """Events of ``stream``, as the WHATWG "interpret an event stream" algorithm reads it
    (a model independent of the encoder: fields split on the first colon, one space
    dropped, data lines joined with LF, dispatched on a blank line)."""
    events: list[dict[str, str]] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    for line in re.split(r"\r\n|\r|\n", stream):
        if line == "":
            if data or fields:
                events.append({**fields, "data": "\n".join(data)})
            data, fields = [], {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in ("event", "id", "retry"):
            fields[name] = value
    return events


field_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\r\n\x00"), max_size=20
)


@given(
    data=st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
    update_id=field_text.filter(bool),
    kind=st.none() | field_text.filter(bool),
    retry=st.none() | st.integers(min_value=1, max_value=2**63),
)
def test_a_frame_is_read_back_as_exactly_its_update(
    data: str, update_id: str, kind: str | None, retry: int | None
) -> None:
    update = Update(("t",), data=data, id=update_id, type=kind, retry=retry)
    events = read_event_stream(encode(update).decode())
    expected = {"id": update_id, "data": re.sub(r"\r\n|\r", "\n", data)}
    if kind is not None:
        expected["event"] = kind
    if retry is not None:
        expected["retry"] = str(retry)
    assert events == [expected]
