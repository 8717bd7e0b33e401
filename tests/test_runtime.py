"""Worker-process tuning applied by ``wsgi.py``."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.runtime import GC_THRESHOLDS, tune_garbage_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_start_up_objects_are_frozen_and_young_collections_are_rarer() -> None:
    gc.unfreeze()
    survivor = [object()]  # tracked by the collector until frozen
    tune_garbage_collector()
    assert gc.get_threshold() == GC_THRESHOLDS
    assert gc.get_freeze_count() > 0
    assert not any(obj is survivor for obj in gc.get_objects())
