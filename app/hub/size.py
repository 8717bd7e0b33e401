"""How many bytes an update costs the hub, measured without encoding it.

The hub holds an update as its SSE frame (:func:`app.hub.sse.encode`: the bytes every
subscriber receives and the history keeps, one object shared by all of them) and its
topics (matched against selectors, kept with the frame). :func:`update_size` is the sum of
both, the measure of ``MERCURE_MAX_UPDATE_SIZE`` and of the in-memory history's
``history_bytes``. It is computed from the update's strings: an ASCII string's length is
its byte count, so measuring a large update allocates nothing, and an update refused for
its size is never encoded.

The frame can be much larger than the data sent: every line break of ``data`` becomes
``\\ndata: `` (7 bytes), so a form of 10 MiB of line feeds makes a 70 MiB frame.
"""

from __future__ import annotations

from app.hub.update import Update

__all__ = ["frame_size", "topics_size", "update_size", "utf8_length"]

_ID = len(b"id: \n")
_EVENT = len(b"event: \n")
_RETRY = len(b"retry: \n")
_DATA = len(b"data: \n\n")
_BREAK = len(b"\ndata: ")


def utf8_length(text: str) -> int:
    """The length of ``text`` in UTF-8 (lone surrogates count their 3 bytes)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def frame_size(update: Update) -> int:
    """``len(encode(update))``, without encoding."""
    size = _ID + utf8_length(update.id)
    if update.type:
        size += _EVENT + utf8_length(update.type)
    if update.retry:
        size += _RETRY + len(str(update.retry))
    data = update.data
    line_feeds, returns = data.count("\n"), data.count("\r")
    breaks = line_feeds + returns - data.count("\r\n")  # CRLF, CR and LF each end a line
    return size + _DATA + utf8_length(data) - line_feeds - returns + _BREAK * breaks


def topics_size(update: Update) -> int:
    """The bytes of ``update``'s topics, in UTF-8."""
    return sum(utf8_length(topic) for topic in update.topics)


def update_size(update: Update) -> int:
    """What the hub holds for ``update``: its SSE frame plus its topics, in bytes."""
    return frame_size(update) + topics_size(update)
