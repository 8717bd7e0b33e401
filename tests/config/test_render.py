"""to_data is the inverse of loading: its output loads back to an equal spec."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ruamel.yaml import YAML

from app.config import ResourcesSpec, load_resources
from app.config.render import to_data

EVERYTHING = """
api: {title: Shop, version: '2', description: d}
resources:
  Author:
    fields: {name: string}
  Book:
    description: Books
    fields:
      title: {type: string, required: true, max_length: 9, default: abc, groups: [g]}
      price: {type: decimal, precision: 5, scale: 1, min: 0, max: 99, default: '1.5'}
      rating: {type: integer, min: 0, max: 5}
      ratio: {type: float, min: 0.5}
      state: {type: enum, choices: [a, b], default: a, description: State}
      code: {type: uuid, default: 12345678-1234-5678-1234-567812345678}
      day: {type: date, default: 2024-01-02, min: 2000-01-01}
      at: {type: datetime, read_only: true, max: 2030-01-01T12:30:00Z}
      data: {type: json, default: {k: [1]}, write_only: true}
    relations:
      author: {target: Author, required: true, groups: [g], description: By}
    operations: [get]
    filters: {search: {title: partial}, range: [rating], exists: [ratio]}
    order: {fields: [title], default: {title: desc}}
    mercure: {private: true, topics: ['/b/{id}'], retry: 5, hub: h, data: x, id: i, type: t,
              normalization_groups: [g], include_type: true}
"""


def test_round_trip(tmp_path: Path, write: Callable[[str], Path]) -> None:
    original: ResourcesSpec = load_resources(write(EVERYTHING), {})
    copy = tmp_path / "copy.yaml"
    with copy.open("w", encoding="utf-8") as stream:
        YAML().dump(to_data(original), stream)
    reloaded = load_resources(copy, {})
    assert reloaded.resources == original.resources
    assert reloaded.api == original.api
