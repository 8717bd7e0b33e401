"""Dates and date-times are read as API Platform reads them (table-driven).

A ``date`` field takes a date or an RFC 3339 date-time, of which it keeps the calendar
date written, in its own offset (Symfony's ``DateTimeNormalizer`` keeps the offset,
Doctrine's ``date`` type stores ``Y-m-d`` in it). A ``datetime`` field takes a date as
midnight UTC that day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.errors import ValidationFailed
from app.models import ModelRegistry
from app.schemas import load_payload
from tests.api import specs

UTC = dt.UTC


@pytest.mark.parametrize(
    ("sent", "loaded"),
    [
        ("2020-01-02", dt.date(2020, 1, 2)),
        ("2020-01-02T00:00:00+00:00", dt.date(2020, 1, 2)),  # API Platform's own shape
        ("2020-01-02T00:00:00Z", dt.date(2020, 1, 2)),
        ("2020-01-02T23:30:00-05:00", dt.date(2020, 1, 2)),  # 2020-01-03 in UTC
        ("2020-01-02T00:30:00+02:00", dt.date(2020, 1, 2)),  # 2020-01-01 in UTC
        ("2020-01-02T10:00:00.123456+01:00", dt.date(2020, 1, 2)),
        ("2020-01-02T10:00:00", dt.date(2020, 1, 2)),
        ("2024-02-29T12:00:00Z", dt.date(2024, 2, 29)),
    ],
)
def test_date_fields_take_dates_and_date_times(
    registry: ModelRegistry, sent: str, loaded: dt.date
) -> None:
    values = load_payload(registry, specs.GADGET, {"name": "n", "releaseDate": sent}, "create")
    assert values["releaseDate"] == loaded
    assert type(values["releaseDate"]) is dt.date


@pytest.mark.parametrize(
    ("sent", "loaded"),
    [
        ("2020-01-02", dt.datetime(2020, 1, 2, tzinfo=UTC)),
        ("2020-01-02T00:00:00+00:00", dt.datetime(2020, 1, 2, tzinfo=UTC)),
        ("2020-01-02T23:30:00-05:00", dt.datetime(2020, 1, 3, 4, 30, tzinfo=UTC)),
    ],
)
def test_datetime_fields_take_dates_as_midnight_utc(
    registry: ModelRegistry, sent: str, loaded: dt.datetime
) -> None:
    values = load_payload(registry, specs.GADGET, {"name": "n", "launchedAt": sent}, "create")
    assert values["launchedAt"] == loaded
    assert values["launchedAt"].utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "sent",
    [
        "2020-02-30",
        "2020-02-30T00:00:00Z",
        "2020-01-02T25:00:00Z",
        "2020-01-02Tnoon",
        "2020-01-02x",
        "",
        "tomorrow",
        20200102,
        True,
        ["2020-01-02"],
    ],
)
def test_other_values_are_not_dates(registry: ModelRegistry, sent: Any) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_payload(registry, specs.GADGET, {"name": "n", "releaseDate": sent}, "create")
    violations = raised.value.violations
    assert [(v.property_path, v.message) for v in violations] == [
        ("releaseDate", "Not a valid date.")
    ]
