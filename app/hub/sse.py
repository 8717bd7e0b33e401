"""Server-Sent Events framing of updates.

:func:`encode` turns one :class:`~app.hub.update.Update` into the exact bytes every
subscriber receives, so the hub encodes an update once per process whatever the number of
subscribers. The frame is, in this order and as the reference hub writes it::

    event: <type>      (only when the update has a type)
    retry: <n>         (only when the update has a non-zero retry)
    id: <id>           (always)
    data: <line>       (one per line of data, split on CRLF, CR or LF; at least one)
    <blank line>

Lines are split with a regex on ``\\r\\n|\\r|\\n`` (never ``str.splitlines``, which also
splits on form feeds and Unicode separators that SSE treats as ordinary characters).
"""

from __future__ import annotations

import re

from app.hub.update import Update

__all__ = ["COMMENT", "encode", "split_lines"]

COMMENT = b":\n"
"""An SSE comment line: sent at once to flush headers, and as the heartbeat."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(data: str) -> list[str]:
    """Split ``data`` on CRLF, CR and LF only; ``""`` gives ``[""]``."""
    return _LINE_BREAK.split(data)


def encode(update: Update) -> bytes:
    """Return the complete SSE frame for ``update``, UTF-8 encoded."""
    head = ""
    if update.type:
        head = f"event: {update.type}\n"
    if update.retry:
        head += f"retry: {update.retry}\n"
    data = _LINE_BREAK.sub("\ndata: ", update.data)
    return f"{head}id: {update.id}\ndata: {data}\n\n".encode()
