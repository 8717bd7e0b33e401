"""The publish body, read as the reference hub reads it (Go's ``Request.ParseForm``).

Only ``application/x-www-form-urlencoded`` bodies are parsed, strictly: a bad percent
escape or a ``;`` is a 400 ``Bad Request``, bytes are kept as sent (so invalid UTF-8 in a
topic gets the reference's quoted message), the body is bounded, and ``retry`` must fit
in a uint64.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from app.hub import Hub
from app.hub import form as hub_form
from app.hub.form import FormError, go_quote, parse_form
from tests.hub.conftest import PUBLISHER
from tests.hub.sse_client import Subscription

LiveHub = Callable[..., tuple[str, Hub]]
FORM = "application/x-www-form-urlencoded"
INVALID_TOPIC = "topic contains a forbidden control character or invalid UTF-8"
BAD_RETRY = 'Invalid "retry" parameter\n'


def post(
    client: httpx.Client,
    url: str,
    body: bytes | Iterator[bytes],
    content_type: str | None = FORM,
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {PUBLISHER}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return client.post(url, content=body, headers=headers)


RAW_CASES: list[tuple[str, bytes, int, str]] = [
    ("escaped invalid UTF-8 in topic", b"topic=%FFbad", 400, f'"\\xffbad": {INVALID_TOPIC}\n'),
    ("raw invalid UTF-8 in topic", b"topic=\xffbad", 400, f'"\\xffbad": {INVALID_TOPIC}\n'),
    ("control character quoted as Go does", b"topic=a%01b", 400, f'"a\\x01b": {INVALID_TOPIC}\n'),
    ("C1 control character", b"topic=a%C2%85b", 400, f'"a\\u0085b": {INVALID_TOPIC}\n'),
    ("invalid escape", b"topic=x&data=%ZZ", 400, "Bad Request\n"),
    ("truncated escape", b"topic=x&data=%F", 400, "Bad Request\n"),
    ("invalid escape in a name", b"topic=x&%ZZ=1", 400, "Bad Request\n"),
    ("semicolon separator", b"topic=x;data=y", 400, "Bad Request\n"),
    ("invalid UTF-8 in data", b"topic=x&data=%FF", 400, '"data" field contains invalid UTF-8\n'),
    ("invalid UTF-8 in id", b"topic=x&id=%C3", 400, '"id" field contains invalid UTF-8\n'),
    ("invalid UTF-8 in type", b"topic=x&type=\xe2", 400, '"type" field contains invalid UTF-8\n'),
    ("retry above uint64", b"topic=x&retry=99999999999999999999999", 400, BAD_RETRY),
    ("retry of 2**64", b"topic=x&retry=18446744073709551616", 400, BAD_RETRY),
    ("retry with a sign", b"topic=x&retry=%2B1", 400, BAD_RETRY),
    ("retry of 2**64 - 1", b"topic=x&id=max&retry=18446744073709551615", 200, "max"),
    ("retry with many leading zeros", b"topic=x&id=z&retry=" + b"0" * 5000 + b"7", 200, "z"),
    ("blank segments and a bare name", b"&topic=x&&private&id=p&", 200, "p"),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "text"), RAW_CASES, ids=[c[0] for c in RAW_CASES]
)
def test_raw_publish_bodies(
    live_hub: LiveHub, client: httpx.Client, case: str, body: bytes, status: int, text: str
) -> None:
    url, _hub = live_hub()
    response = post(client, url, body)
    assert (response.status_code, response.text) == (status, text)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"


def test_authorization_is_checked_before_the_body(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    response = client.post(url, content=b"data=%ZZ", headers={"Content-Type": FORM})
    assert (response.status_code, response.text) == (401, "Unauthorized\n")


def test_an_invalid_query_string_is_a_bad_request(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    response = post(client, f"{url}?x=%ZZ", b"topic=x")
    assert (response.status_code, response.text) == (400, "Bad Request\n")
    with_token = client.post(
        f"{url}?authorization={PUBLISHER}&x=%ZZ", content=b"topic=x", headers={"Content-Type": FORM}
    )
    assert (with_token.status_code, with_token.text) == (400, "Bad Request\n")


def test_multipart_bodies_are_not_parsed(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    response = client.post(
        url,
        data={"topic": "https://example.com/books/1"},
        files={"file": ("a.txt", b"x")},
        headers={"Authorization": f"Bearer {PUBLISHER}"},
    )
    assert (response.status_code, response.text) == (400, 'Missing "topic" parameter\n')


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json"])
def test_other_content_types_carry_no_form(
    live_hub: LiveHub, client: httpx.Client, content_type: str | None
) -> None:
    url, _hub = live_hub()
    response = post(client, url, b"topic=x", content_type)
    assert (response.status_code, response.text) == (400, 'Missing "topic" parameter\n')


def test_media_type_is_case_insensitive_and_parameters_are_ignored(
    live_hub: LiveHub, client: httpx.Client
) -> None:
    url, _hub = live_hub()
    response = post(
        client, url, b"topic=x&id=ok", "Application/X-WWW-Form-URLencoded; charset=UTF-8"
    )
    assert (response.status_code, response.text) == (200, "ok")


def test_body_size_is_bounded(
    live_hub: LiveHub, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hub_form.MAX_FORM_SIZE == 10 << 20  # Go's ParseForm limit
    monkeypatch.setattr(hub_form, "MAX_FORM_SIZE", 32)
    url, _hub = live_hub()
    fits = b"topic=x&id=fits&data=" + b"a" * 11
    assert len(fits) == 32
    assert post(client, url, fits).text == "fits"
    response = post(client, url, fits + b"a")
    assert (response.status_code, response.text) == (400, "Bad Request\n")
    chunked = post(client, url, iter([fits[:10], fits[10:] + b"a"]))
    assert (chunked.status_code, chunked.text) == (400, "Bad Request\n")


def test_bytes_are_decoded_as_sent(live_hub: LiveHub, client: httpx.Client) -> None:
    url, _hub = live_hub()
    with Subscription(client, url, ["a b+c"]) as sub:
        body = b"topic=a+b%2Bc&id=u&data=caf\xc3\xa9+%E2%82%AC%2B\xc3%A9"
        assert post(client, url, iter([body[:9], body[9:]])).text == "u"
        event = sub.next_event()
        assert (event.id, event.data) == ("u", "café €+é")


# -- the parser and the quoting on their own --------------------------------------------------


def test_parse_form_follows_go_parse_query() -> None:
    assert parse_form(b"topic=a&private&=v&&topic=b+c&x=") == {
        "topic": ["a", "b c"],
        "private": [""],
        "": ["v"],
        "x": [""],
    }
    assert parse_form(b"") == {}
    # Bytes, not characters: a raw byte and an escaped one make one UTF-8 sequence.
    assert parse_form(b"d=\xc3%A9") == {"d": ["é"]}
    # Invalid UTF-8 survives as lone surrogates (surrogateescape), so it can be reported.
    assert parse_form(b"d=%FF") == {"d": ["\udcff"]}


@pytest.mark.parametrize("body", [b"a=%ZZ", b"a=%", b"a=%4", b"%G1=b", b"a=1;b=2", b"a;b"])
def test_parse_form_refuses_what_go_refuses(body: bytes) -> None:
    with pytest.raises(FormError):
        parse_form(body)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("plain", '"plain"'),
        ('a"b\\c', '"a\\"b\\\\c"'),
        ("é €", '"é €"'),
        ("\x07\x08\x0c\n\r\t\x0b", '"\\a\\b\\f\\n\\r\\t\\v"'),
        ("\x00\x01\x1f\x7f", '"\\x00\\x01\\x1f\\x7f"'),
        ("\x85\xa0\u200b", '"\\u0085\\u00a0\\u200b"'),
        ("\U000e0001", '"\\U000e0001"'),
        ("a\udcffb\udcc3", '"a\\xffb\\xc3"'),
    ],
)
def test_go_quote_matches_strconv_quote(value: str, quoted: str) -> None:
    assert go_quote(value) == quoted
