"""The emulator's population (devtools/emulator/population.py): guilds whose active members
change and whose rosters churn at tunable rates, deterministically on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.http import http_date

from devtools.emulator import EmulatorConfig, State
from devtools.emulator.population import Population, Rates
from tests.fakes.emulator import FakeClock, api, app_token, char_path, emulator_client, js

DAY = 100.0  # real seconds a simulated day lasts in these tests


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> FlaskClient:
    return emulator_client(clock, [])


def populate(client: FlaskClient, **body: Any) -> dict[str, Any]:
    client.post("/_emulator/config", json={"rate_limit": 0})  # the fake clock stands still
    response = client.post("/_emulator/population", json={"seed": 7, **body})
    assert response.status_code == 200, response.data
    return dict(js(response))


def profile(client: FlaskClient, token: str, char: dict[str, Any], since: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"header_If_Modified_Since": since} if since else {}
    return api(client, char_path(char["realm"], char["name"]), token, "profile-us", **extra)


def roster(client: FlaskClient, token: str, guild: dict[str, Any], since: str | None = None):  # type: ignore[no-untyped-def]
    path = f"/data/wow/guild/{guild['realm']}/{guild['slug']}/roster"
    extra = {"header_If_Modified_Since": since} if since else {}
    return api(client, path, token, "profile-us", **extra)


def test_population_has_active_and_dormant_members_that_answer(
    client: FlaskClient, clock: FakeClock
) -> None:
    body = populate(client, guilds=3, members=20, active_share=0.25)
    chars, guilds = body["characters"], body["guilds"]
    assert len(chars) == 60 and len(guilds) == 3
    active = [c for c in chars if c["active"]]
    assert 5 <= len(active) <= 25
    for c in active:
        assert c["level"] == 80 and clock.now - c["last_login"] / 1000 <= 86_400
    for c in chars:
        if not c["active"]:
            assert clock.now - c["last_login"] / 1000 >= 90 * 86_400
    token = app_token(client)
    got = js(profile(client, token, chars[0]))
    assert got["id"] == chars[0]["id"] and got["guild"]["id"] == chars[0]["guild_id"]
    members = js(roster(client, token, guilds[0]))["members"]
    assert len(members) == 20 == guilds[0]["members"]


def test_without_rates_nothing_changes(client: FlaskClient, clock: FakeClock) -> None:
    body = populate(client, guilds=2, members=10, active_share=0.5)
    clock.now += 30 * 86_400
    token = app_token(client)
    for char in body["characters"]:
        since = http_date(char["last_modified"])
        assert profile(client, token, char, since).status_code == 304
    for guild in body["guilds"]:
        assert roster(client, token, guild, http_date(guild["last_modified"])).status_code == 304


def test_active_members_change_at_the_rate_and_dormant_ones_never(
    client: FlaskClient, clock: FakeClock
) -> None:
    client.post("/_emulator/config", json={"day_seconds": DAY, "change_rate": 1.0})
    body = populate(client, guilds=4, members=50, active_share=0.5)
    token = app_token(client)
    clock.now += 3 * DAY  # three simulated days: about 3 changes per active member
    changed = dormant_changed = 0
    for char in body["characters"]:
        answer = profile(client, token, char, http_date(char["last_modified"]))
        if char["active"]:
            changed += answer.status_code == 200
        else:
            dormant_changed += answer.status_code == 200
    active = sum(c["active"] for c in body["characters"])
    assert dormant_changed == 0
    assert 0.85 * active <= changed <= active  # P(no event in 3 days) = e^-3 = 5 %
    after = js(client.get("/_emulator/population"))
    moved = [
        (a, b) for a, b in zip(body["characters"], after["characters"], strict=True) if b["changes"]
    ]
    for before, now in moved:
        assert (
            now["last_login"] > before["last_login"] and now["last_modified"] > clock.now - 3 * DAY
        )
        assert now["last_modified"] <= clock.now


def test_changed_member_gets_new_gear_and_login(client: FlaskClient, clock: FakeClock) -> None:
    client.post("/_emulator/config", json={"day_seconds": DAY, "change_rate": 5.0})
    body = populate(client, guilds=1, members=10, active_share=1.0)
    token = app_token(client)
    char = body["characters"][0]
    before = js(profile(client, token, char))
    equipment = api(
        client, char_path(char["realm"], char["name"], "/equipment"), token, "profile-us"
    )
    clock.now += DAY
    after = js(profile(client, token, char))
    assert after["average_item_level"] > before["average_item_level"]
    assert after["last_login_timestamp"] > before["last_login_timestamp"]
    since = equipment.headers["Last-Modified"]
    again = api(
        client,
        char_path(char["realm"], char["name"], "/equipment"),
        token,
        "profile-us",
        header_If_Modified_Since=since,
    )
    assert again.status_code == 200


def test_rosters_churn_and_keep_their_size(client: FlaskClient, clock: FakeClock) -> None:
    client.post("/_emulator/config", json={"day_seconds": DAY, "roster_churn": 0.5})
    body = populate(client, guilds=2, members=20, active_share=0.0)
    token = app_token(client)
    guild = body["guilds"][0]
    first = {m["character"]["id"] for m in js(roster(client, token, guild))["members"]}
    clock.now += DAY  # about 10 of 20 replaced
    answer = roster(client, token, guild, http_date(guild["last_modified"]))
    assert answer.status_code == 200
    now = {m["character"]["id"] for m in js(answer)["members"]}
    assert len(now) == 20 and 3 <= len(first - now) <= 17
    leaver = next(c for c in body["characters"] if c["id"] in first - now)
    assert "guild" not in js(profile(client, token, leaver))


def _play(population: Population, times: list[float]) -> dict[str, Any]:
    for t in times:
        population.advance(t)
    return population.summary()


def test_the_state_at_a_time_does_not_depend_on_when_it_was_asked() -> None:
    rates = Rates(change_rate=2.0, roster_churn=0.3, day_seconds=DAY)
    start = 1_800_000_000.0

    def make() -> Population:
        return Population(3, 15, 0.4, seed=11, now=start, rates=rates)

    one_go = _play(make(), [start + 5 * DAY])
    in_steps = _play(make(), [start + k * DAY / 7 for k in range(36)])
    assert one_go == in_steps
    assert sum(c["changes"] for c in one_go["characters"]) > 0
    other_seed = Population(3, 15, 0.4, seed=12, now=start, rates=rates)
    assert _play(other_seed, [start + 5 * DAY]) != one_go


def test_rates_come_from_config_and_environment() -> None:
    config = EmulatorConfig.from_env(
        {
            "EMULATOR_DAY_SECONDS": "240",
            "EMULATOR_CHANGE_RATE": "0.5",
            "EMULATOR_ROSTER_CHURN": "0.02",
        }
    )
    assert config.rates() == Rates(0.5, 0.02, 240.0)
    assert EmulatorConfig().rates() == Rates(0.0, 0.0, 86_400.0)
    with pytest.raises(ValueError, match="change_rate"):
        EmulatorConfig().updated({"change_rate": -1})
    state = State(EmulatorConfig(), clock=FakeClock())
    state.configure({"change_rate": 3.0, "day_seconds": 10})
    assert state.world.rates == Rates(3.0, 0.0, 10.0)


def test_population_requests_are_validated(client: FlaskClient) -> None:
    assert client.get("/_emulator/population").status_code == 404
    for body in ({"guilds": 0, "members": 1}, {"members": 3}, {"guilds": 1, "members": 1, "x": 1}):
        answer = client.post("/_emulator/population", json=body)
        assert answer.status_code == 400 and "error" in js(answer)


def test_an_account_character_in_a_population_guild_is_in_its_roster(
    client: FlaskClient,
) -> None:
    body = populate(client, guilds=1, members=5)
    guild = body["guilds"][0]
    put = {"characters": [{"name": "Userchar", "realm": guild["realm"], "guild": guild["name"]}]}
    account = js(client.put("/_emulator/accounts/42", json=put))
    assert account["characters"][0]["guild_id"] == guild["id"]
    members = js(roster(client, app_token(client), guild))["members"]
    assert "Userchar" in {m["character"]["name"] for m in members} and len(members) == 6


def test_not_modified_is_counted_per_endpoint(client: FlaskClient) -> None:
    body = populate(client, guilds=1, members=2)
    token = app_token(client)
    char = body["characters"][0]
    profile(client, token, char, http_date(char["last_modified"]))
    stats = js(client.get("/_emulator/stats"))
    assert stats["not_modified_by_endpoint"] == {"character-profile": 1}


def test_last_modified_given_is_what_answers_after_a_reset(
    client: FlaskClient, clock: FakeClock
) -> None:
    clock.now += 3600
    client.post("/_emulator/reset")  # Last-Modified never goes below the reset's time
    body = populate(client, guilds=1, members=5, active_share=0.4)
    token = app_token(client)
    for char in body["characters"]:
        assert char["last_modified"] >= int(clock.now)
        assert profile(client, token, char, http_date(char["last_modified"])).status_code == 304
