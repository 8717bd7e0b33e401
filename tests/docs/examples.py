"""The console examples of the README and of docs/, read as the tests run them.

A ```` ```console ```` block holds commands (lines starting with ``$ ``; a command goes on
while a line ends with ``\\`` or a quote is open) each followed by the output it shows,
if any. An HTML comment on the line before a block says how it runs:

* none: in the page's shell, one per page, so variables set by one block serve the next;
  each command must exit with status 0, unless it shows its output;
* ``<!-- example: terminal -->``: in a shell of its own ("in a second terminal"), started
  when the page reaches it (the page goes on once it printed something: a subscriber
  is connected) and left running while the rest of the page runs; what its commands
  show must have arrived by the end of the page;
* ``<!-- example: not run (REASON) -->``: not run, for the reason given (it runs for
  minutes, or needs production hosts).

Shown output is compared with what the command printed, whitespace left out, ``...`` and
``…`` standing for any text; a command that shows no output is not compared.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "localhost:8000"
"""The one host name of the examples; replaced by the live gateway's at run time."""
_MARKER = re.compile(r"^<!-- example: (terminal|not run \((?P<reason>.+)\)) -->$")
_ELLIPSIS = re.compile(r"(\.\.\.|…)")


def pages() -> list[Path]:
    """The README and every page of the documentation site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Command:
    text: str
    shown: list[str] = field(default_factory=list)

    @property
    def expected(self) -> str:
        return "\n".join(self.shown)


@dataclass
class Block:
    page: Path
    line: int
    mode: str  # "shell", "terminal" or "not run"
    reason: str
    commands: list[Command]

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _complete(text: str) -> bool:
    if text.endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # a quote still open
        return False
    return True


def parse_commands(lines: list[str]) -> list[Command]:
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if line.startswith("$ "):
            text = line[2:]
            while not _complete(text) and index < len(lines):
                text += "\n" + lines[index]
                index += 1
            commands.append(Command(text))
        elif commands:
            commands[-1].shown.append(line)
        elif line.strip():
            raise ValueError(f"output before any command: {line!r}")
    return commands


def blocks(page: Path) -> list[Block]:
    """The console blocks of ``page``, in order."""
    lines = page.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```console":
            index += 1
            continue
        start = index
        end = index + 1
        while lines[end].strip() != "```":
            end += 1
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = _MARKER.match(before.strip())
        mode, reason = "shell", ""
        if marker is not None:
            mode = "terminal" if marker.group(1) == "terminal" else "not run"
            reason = marker.group("reason") or ""
        found.append(Block(page, start + 1, mode, reason, parse_commands(lines[start + 1 : end])))
        index = end + 1
    return found


def matches(expected: str, actual: str) -> bool:
    """Whether ``actual`` is what ``expected`` shows (whitespace left out; ``...`` and
    ``…`` stand for any text)."""
    squeezed = re.sub(r"\s+", "", expected)
    pattern = "".join(
        ".*?" if _ELLIPSIS.fullmatch(part) else re.escape(part)
        for part in _ELLIPSIS.split(squeezed)
        if part
    )
    return re.fullmatch(pattern, re.sub(r"\s+", "", actual), re.DOTALL) is not None
