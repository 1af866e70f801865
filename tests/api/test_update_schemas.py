"""Partial updates (PATCH): the OpenAPI document offers null only where the API accepts it.

A field left out stays as it is; an explicit null is refused (422), except where null clears
the field. A client generated from the document must not be told it may send a null that the
service then refuses (schemathesis found four such operations).
"""

from __future__ import annotations

from service.api.types import Update
from tests.api.support import ORGS, assert_problem, new_org

NULL_CLEARS = {
    "OrganizationUpdate": set(),
    "UserUpdate": set(),
    "WebhookUpdate": set(),
    "NoticeUpdate": {"supersedes_id"},
}


async def test_update_schemas_offer_null_only_where_null_clears(app):
    schemas = app.openapi()["components"]["schemas"]
    documented = {name for name in schemas if name.endswith("Update")}
    assert documented == set(NULL_CLEARS)
    assert {model.__name__ for model in Update.__subclasses__()} == set(NULL_CLEARS)
    for name, clears in NULL_CLEARS.items():
        properties = schemas[name]["properties"]
        offers_null = {
            field
            for field, schema in properties.items()
            if {"type": "null"} in schema.get("anyOf", []) or schema.get("type") == "null"
        }
        assert offers_null == clears, name


async def test_a_null_where_the_schema_offers_none_is_refused(client, world):
    created = await client.post(ORGS, json=new_org(), headers=world.host_admin.headers)
    org = created.json()
    response = await client.patch(
        f"{ORGS}/{org['id']}", json={"active": None}, headers=world.host_admin.headers
    )
    body = assert_problem(response, 422)
    assert "must not be null: active" in body["errors"][0]["message"]
