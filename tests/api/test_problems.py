"""Every error class answers with RFC 9457 problem details."""

from __future__ import annotations

from tests.api.support import ORGS, assert_problem, new_org

SECRET_MESSAGE = "database password is hunter2"


async def test_unknown_route_is_a_404_problem(client):
    response = await client.get("/api/v1/no-such-thing")
    assert assert_problem(response, 404)["code"] == "not-found"


async def test_wrong_method_is_a_405_problem(client, world):
    response = await client.delete("/api/v1/me", headers=world.officer.headers)
    assert assert_problem(response, 405)["code"] == "method-not-allowed"


async def test_a_405_lists_every_method_of_the_path_in_allow(client, world):
    # GET and POST of /api/v1/organizations are two routes; the answer names both (RFC 9110).
    response = await client.put(ORGS, json={}, headers=world.host_admin.headers)
    assert assert_problem(response, 405)["code"] == "method-not-allowed"
    assert set(response.headers["allow"].split(", ")) == {"GET", "POST"}
    response = await client.delete("/api/v1/me", headers=world.officer.headers)
    assert response.headers["allow"] == "GET"


async def test_validation_error_is_a_422_problem_with_errors(client, world):
    response = await client.post(ORGS, json={}, headers=world.host_admin.headers)
    body = assert_problem(response, 422)
    assert isinstance(body["errors"], list)
    assert {tuple(error["loc"]) for error in body["errors"]} >= {("body", "code")}


async def test_unexpected_exception_is_a_500_problem_without_details(app, client):
    async def explode() -> None:
        raise RuntimeError(SECRET_MESSAGE)

    app.add_api_route("/test-only/explode", explode, methods=["GET"])
    response = await client.get("/test-only/explode")
    body = assert_problem(response, 500)
    assert body["code"] == "internal-error"
    for leak in (SECRET_MESSAGE, "RuntimeError", "Traceback", "explode", ".py"):
        assert leak not in response.text


async def test_missing_token_is_a_401_problem(client):
    response = await client.get("/api/v1/me")
    assert assert_problem(response, 401)["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_garbage_token_is_a_401_problem(client):
    response = await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})
    assert_problem(response, 401)


async def test_forbidden_action_is_a_403_problem(client, world):
    response = await client.post(ORGS, json=new_org(), headers=world.officer.headers)
    assert assert_problem(response, 403)["code"] == "forbidden"


async def test_duplicate_organization_code_is_a_409_problem(client, world):
    duplicate = new_org("TR-MFA", country="TR", kind="counterpart_ministry")
    response = await client.post(ORGS, json=duplicate, headers=world.host_admin.headers)
    assert assert_problem(response, 409)["code"] == "conflict"
