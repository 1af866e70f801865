async def test_me_and_dialogues(client, world):
    response = await client.get("/api/v1/me", headers=world.officer.headers)
    assert response.status_code == 200, response.text
    assert response.json()["organization"]["code"] == "CA-GAC"
    response = await client.get("/api/v1/dialogues", headers=world.diplomat.headers)
    assert [d["id"] for d in response.json()["items"]] == [str(world.dialogue_id)]
