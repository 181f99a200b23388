"""The emulator's equipment and specializations: parsed by the project's models, stable for an
unchanged character, changed (with a later Last-Modified) by an admin PUT of item_level."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.blizzard import models as m
from shared.services.snapshots import equipment_content, talents_content
from tests.fakes.emulator import FakeClock, api, app_token, char_path, emulator_client, js


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(clock: FakeClock, sleeps: list[float]) -> FlaskClient:
    return emulator_client(clock, sleeps)


def character_path(client: FlaskClient, n: int = 1) -> tuple[str, dict[str, Any]]:
    first = js(client.get(f"/_emulator/accounts/{n}"))["characters"][0]
    return char_path(str(first["realm"]), str(first["name"])), first


def test_equipment_and_specializations_parse_and_change_with_gear(
    client: FlaskClient, clock: FakeClock
) -> None:
    token = app_token(client)
    path, first = character_path(client)
    gear = api(client, f"{path}/equipment", token, "profile-us")
    assert gear.status_code == 200 and "Last-Modified" in gear.headers
    parsed = m.CharacterEquipment.model_validate(js(gear))
    content = equipment_content(parsed)
    slots = {i["slot"] for i in content["items"]}
    assert {"HEAD", "CHEST", "MAIN_HAND", "TABARD"} <= slots
    assert any(i["enchantments"] for i in content["items"])
    assert any(i["gems"] for i in content["items"])
    again = m.CharacterEquipment.model_validate(
        js(api(client, f"{path}/equipment", token, "profile-us"))
    )
    assert equipment_content(again) == content  # unchanged character, same gear
    specs = m.CharacterSpecializations.model_validate(
        js(api(client, f"{path}/specializations", token, "profile-us"))
    )
    talents = talents_content(specs)
    assert talents["specId"] == first["spec_id"] and talents["loadoutCode"]
    assert [t["tree"] for t in talents["talents"]].count("hero") == 2

    clock.now += 3600
    changed = {**first, "item_level": first["item_level"] + 7}
    changed = {k: v for k, v in changed.items() if k not in ("equipped_item_level",)}
    assert client.put("/_emulator/accounts/1", json={"characters": [changed]}).status_code == 200
    moved = api(client, f"{path}/equipment", token, "profile-us")
    assert equipment_content(m.CharacterEquipment.model_validate(js(moved))) != content
    assert moved.headers["Last-Modified"] != gear.headers["Last-Modified"]
    not_modified = api(
        client,
        f"{path}/equipment",
        token,
        "profile-us",
        header_If_Modified_Since=moved.headers["Last-Modified"],
    )
    assert not_modified.status_code == 304
