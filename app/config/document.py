"""Parsed YAML as plain Python values, with the line of every dotted key.

:func:`parse` turns YAML text into a :class:`Document`: mappings become ``dict`` with
string keys, sequences ``list``, scalars ``str``/``int``/``float``/``bool``/``None``/
``date``/``datetime``. Every ``{$env: NAME}`` mapping is replaced by the variable's value as
an :class:`EnvValue` (a ``str`` that remembers the variable, so validation can convert
it to the expected type and name the variable in errors). Nothing here reads files or the
process environment; the caller passes both in.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app.config.errors import ConfigError, Problem, Problems, join

ENV_KEY = "$env"

REPORTED: Any = object()
"""Stands for an environment reference already reported as unusable."""


class EnvValue(str):
    """A string read from the environment variable ``variable``."""

    variable: str

    def __new__(cls, value: str, variable: str) -> EnvValue:
        instance = super().__new__(cls, value)
        instance.variable = variable
        return instance


@dataclass(frozen=True)
class Document:
    """Plain data plus ``lines``: dotted key -> 1-based line (``""`` is the document).

    ``problems`` lists unusable environment references (each replaced by :data:`REPORTED`).
    """

    data: Any
    lines: Mapping[str, int]
    problems: tuple[Problem, ...] = ()


def parse(text: str, source: str, environ: Mapping[str, str]) -> Document:
    """Parse ``text``; raise :class:`ConfigError` for YAML syntax errors."""
    try:
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = f"invalid YAML: {error.problem or error.context}"
        fix = "fix the syntax (indentation, quotes, brackets)"
        if isinstance(error, DuplicateKeyError):
            key = re.search(r'duplicate key "([^"]*)"', str(error.problem))
            what = f"duplicate key '{key.group(1) if key else '?'}'"
            fix = "keep one of the repeated keys, or merge them"
        raise ConfigError([Problem(source, line, "", what, fix)]) from error
    except ValueError as error:
        what = f"invalid YAML value: {error}"
        fix = "quote values that only look like dates or numbers, e.g. '2024-13-40'"
        raise ConfigError([Problem(source, 1, "", what, fix)]) from error
    except YAMLError as error:
        raise ConfigError([Problem(source, 1, "", f"invalid YAML: {error}", "")]) from error
    lines: dict[str, int] = {"": 1}
    problems = Problems(source, lines)
    data = _plain(root, "", lines, environ, problems)
    return Document(data, lines, tuple(problems.found))


def _plain(
    node: object,
    path: str,
    lines: dict[str, int],
    environ: Mapping[str, str],
    problems: Problems,
) -> Any:
    if isinstance(node, CommentedMap):
        if ENV_KEY in node:
            return _env(node, path, environ, problems)
        result: dict[str, Any] = {}
        for key, value in node.items():
            child = join(path, str(key))
            position = node.lc.data.get(key)
            if position is not None:  # keys merged in with ``<<:`` keep the mapping's line
                lines[child] = position[0] + 1
            result[str(key)] = _plain(value, child, lines, environ, problems)
        return result
    if isinstance(node, CommentedSeq):
        items: list[Any] = []
        for index, value in enumerate(node):
            child = join(path, index)
            position = node.lc.data.get(index)
            if position is not None:
                lines[child] = position[0] + 1
            items.append(_plain(value, child, lines, environ, problems))
        return items
    return _scalar(node)


def _env(node: CommentedMap, path: str, environ: Mapping[str, str], problems: Problems) -> Any:
    name = node[ENV_KEY]
    extra = [str(key) for key in node if key != ENV_KEY]
    if extra or not isinstance(name, str) or not name:
        problems.add(
            path,
            "invalid environment reference",
            "write it as {$env: VARIABLE_NAME} with nothing else in the mapping",
        )
        return REPORTED
    if name not in environ:
        problems.add(
            path,
            f"environment variable '{name}' is not set",
            f"set {name} in the environment or replace the reference with a value",
        )
        return REPORTED
    return EnvValue(environ[name], name)


def _scalar(node: object) -> Any:
    if node is None or isinstance(node, bool):
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime.datetime):
        return datetime.datetime.combine(node.date(), node.timetz())
    if isinstance(node, datetime.date):
        return datetime.date(node.year, node.month, node.day)
    return str(node)
