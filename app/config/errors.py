"""Errors raised for a broken resources file.

A :class:`Problem` is one thing wrong at one place; :class:`ConfigError` carries every
problem found in a file, so a user fixes them all in one round. :class:`Problems` is the
collector the validation passes share: it knows the file name and the line of every dotted
key, so a pass only names the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One error: ``<source>:<line>: <what> at <path>; <fix>``."""

    source: str
    line: int
    path: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        fix = f"; {self.fix}" if self.fix else ""
        return f"{self.source}:{self.line}: {self.what}{where}{fix}"


class ConfigError(Exception):
    """``resources.yaml`` is unusable; the message names file, line, dotted key and fix.

    ``problems`` lists every problem found, ordered by line; the message has one line per
    problem. A plain string is accepted for errors that have no location.
    """

    def __init__(self, problems: Sequence[Problem] | str) -> None:
        if isinstance(problems, str):
            self.problems: tuple[Problem, ...] = ()
            message = problems
        else:
            self.problems = tuple(sorted(problems, key=lambda p: (p.line, p.path)))
            message = "\n".join(str(problem) for problem in self.problems)
        super().__init__(message)


def join(path: str, key: str | int) -> str:
    """The dotted key of ``key`` under ``path``; list items are written ``path[3]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Problems:
    """Collects problems for one file.

    ``lines`` maps dotted keys to 1-based line numbers; a key without its own entry is
    reported at the line of its nearest ancestor.
    """

    def __init__(self, source: str, lines: Mapping[str, int]) -> None:
        self.source = source
        self.lines = lines
        self.found: list[Problem] = []

    def line(self, path: str) -> int:
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def add(self, path: str, what: str, fix: str = "", *, line_of: str | None = None) -> None:
        """Report ``what`` at ``path``, on the line of ``line_of`` (default ``path``)."""
        line = self.line(path if line_of is None else line_of)
        self.found.append(Problem(self.source, line, path, what, fix))

    def __bool__(self) -> bool:
        return bool(self.found)

    def raise_if_any(self) -> None:
        if self.found:
            raise ConfigError(self.found)
