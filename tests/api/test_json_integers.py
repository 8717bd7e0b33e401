"""An ``integer`` property takes what JSON Schema calls an integer: ``3`` and ``3.0`` alike.

The OpenAPI document says ``type: integer``, and JSON Schema counts any number without a
fractional part as one; schemathesis sent ``3.0`` and got a 422. Fractions, strings and
booleans are still refused.
"""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("value", [7, 7.0, 1e3])
def test_a_whole_number_is_an_integer(client: httpx.Client, value: float) -> None:
    response = client.post("/gadgets", json={"name": "w", "quantity": value})
    assert response.status_code == 201, response.text
    assert response.json()["quantity"] == int(value)
    assert isinstance(response.json()["quantity"], int)


@pytest.mark.parametrize("value", [7.5, "7", True, 1e30])
def test_anything_else_is_refused(client: httpx.Client, value: object) -> None:
    response = client.post("/gadgets", json={"name": "w", "quantity": value})
    assert response.status_code == 422, response.text
    assert {v["propertyPath"] for v in response.json()["violations"]} == {"quantity"}
