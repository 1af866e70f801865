"""An item's value: what the OpenAPI document allows is what the service accepts.

The document used to allow any string, so a client could send "" and meet a 422 (schemathesis
ST202 on both permit-creating operations).
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from service.permits.schemas import PermitItem

ITEM = {"description": "Optics", "control_entry": "2-5.a", "quantity": 1, "currency": "CAD"}
VALID = ["0", "12.5", "1250000.00", "999999999999999.99"]
INVALID = ["", "1.234", "-1", "9999999999999999", "12,50"]


def documented_pattern(app) -> re.Pattern[str]:
    value = app.openapi()["components"]["schemas"]["PermitItem"]["properties"]["value"]
    (text,) = [each for each in value["anyOf"] if each["type"] == "string"]
    return re.compile(text["pattern"])


@pytest.mark.parametrize("amount", VALID)
async def test_a_documented_amount_is_accepted(app, amount):
    assert documented_pattern(app).match(amount)
    assert str(PermitItem.model_validate(ITEM | {"value": amount}).value) == amount


@pytest.mark.parametrize("amount", INVALID)
async def test_an_undocumented_amount_is_refused(app, amount):
    assert not documented_pattern(app).match(amount)
    with pytest.raises(ValidationError):
        PermitItem.model_validate(ITEM | {"value": amount})


@pytest.mark.parametrize("quantity", ["2", "2.0", "2e0"])
async def test_a_quantity_is_any_json_integer(quantity):
    # JSON Schema's integer includes 2.0; a client generated from the document may write it so.
    item = PermitItem.model_validate_json(json_item(quantity))
    assert item.quantity == 2
    assert isinstance(item.quantity, int)


@pytest.mark.parametrize("quantity", ['"2"', "true", "2.5", "0", "0.0"])
async def test_a_quantity_is_never_text_a_boolean_or_a_fraction(quantity):
    with pytest.raises(ValidationError):
        PermitItem.model_validate_json(json_item(quantity))


def json_item(quantity: str) -> str:
    return (
        '{"description": "Optics", "control_entry": "2-5.a", "value": "1.00", '
        f'"currency": "CAD", "quantity": {quantity}}}'
    )
