"""`CharacterRefresher` and `RosterSync` over the in-memory repositories, Battle.net at the HTTP
boundary: a 304 records the refresh and asks nothing more, a modified profile is applied (with
its media and history), a 404 is checked against the status endpoint, a roster upserts its
members with their rank and unlinks those who left."""

from __future__ import annotations

from datetime import UTC, datetime

from pytest_httpx import HTTPXMock

from shared.blizzard.client import BlizzardClient
from shared.blizzard.regions import GameVersion, Region
from shared.services.enrichment import CharacterEnricher
from shared.services.refresh import CharacterKey, CharacterRefresher, RosterSync
from tests.fakes import Fakes
from tests.fakes.battlenet import add_token, api, sample, sample_json
from tests.fakes.db import FakeCharacter, FakeGuild

PROFILE = api("/profile/wow/character/norgannon/drinian")
MEDIA = api("/profile/wow/character/norgannon/drinian/character-media")
STATUS = api("/profile/wow/character/norgannon/drinian/status")
ROSTER = api("/data/wow/guild/deathwing/enigma/roster")
SEEN = datetime(2026, 11, 30, 12, tzinfo=UTC)
MODIFIED = {"Last-Modified": "Tue, 01 Dec 2026 08:00:00 GMT"}


class Refresh:
    """The refresher as the worker runs it: its result, with its record written."""

    def __init__(self, client: BlizzardClient, fakes: Fakes) -> None:
        self.refresher = CharacterRefresher(client, CharacterEnricher(client))
        self.fakes = fakes

    def refresh(self, key: CharacterKey) -> str:
        done = self.refresher.refresh(key)
        if done.record is not None:
            self.fakes.queue.apply_record(done.record)
        return done.result


def refresher_of(client: BlizzardClient, fakes: Fakes) -> Refresh:
    return Refresh(client, fakes)


def known(fakes: Fakes, blizzard_id: int = 107811065) -> CharacterKey:
    fakes.db.characters[5] = FakeCharacter(
        5, "u1", "us", "retail", 1262, "norgannon", blizzard_id, "Drinian", level=50,
        equipped_item_level=400, enriched_at=SEEN,
    )  # fmt: skip
    return CharacterKey(5, blizzard_id, Region.US, GameVersion.RETAIL, "norgannon", "Drinian", SEEN)


def test_a_304_records_not_modified_and_asks_nothing_more(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, status_code=304)
    result = refresher_of(client, fakes).refresh(known(fakes))
    assert result == "not_modified"
    [request] = httpx_mock.get_requests(url=PROFILE)
    assert request.headers["If-Modified-Since"] == "Mon, 30 Nov 2026 12:00:00 GMT"
    assert not httpx_mock.get_requests(url=MEDIA)  # no follow-up on a 304
    character = fakes.db.characters[5]
    assert character.refreshed_at is not None and character.level == 50
    assert fakes.db.history == []


def test_a_modified_profile_is_applied_with_media_guild_and_history(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(
        url=PROFILE, content=sample("character_profile_summary.json"), headers=MODIFIED
    )
    httpx_mock.add_response(url=MEDIA, content=sample("character_media.json"))
    assert refresher_of(client, fakes).refresh(known(fakes)) == "modified"
    c = fakes.db.characters[5]
    profile = sample_json("character_profile_summary.json")
    assert c.level == profile["level"] and c.equipped_item_level == profile["equipped_item_level"]
    assert c.avatar_url is not None and c.last_modified == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert fakes.db.guilds[c.guild_id or 0].name == "Mythical Warriors"
    fields = {h["field"]: (h["from"], h["to"], h["source"]) for h in fakes.db.history}
    assert fields["level"] == (50, profile["level"], "refresh")
    assert fields["guild"] == (None, "Mythical Warriors", "refresh")


def test_a_media_failure_keeps_the_profile(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, content=sample("character_profile_summary.json"))
    httpx_mock.add_response(url=MEDIA, status_code=404, json={"code": 404})
    refresher = refresher_of(client.with_attempts(1), fakes)
    assert refresher.refresh(known(fakes)) == "modified"
    assert fakes.db.characters[5].avatar_url is None and fakes.db.characters[5].level != 50


def test_another_id_behind_the_name_archives(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    httpx_mock.add_response(url=PROFILE, content=sample("character_profile_summary.json"))
    assert refresher_of(client, fakes).refresh(known(fakes, 1)) == "archived"
    assert fakes.db.characters[5].is_active is False
    assert [h["field"] for h in fakes.db.history] == ["active"]


def test_a_404_is_checked_against_the_status(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    add_token(httpx_mock)
    refresher = refresher_of(client, fakes)
    httpx_mock.add_response(url=PROFILE, status_code=404, json={"code": 404})
    httpx_mock.add_response(url=STATUS, content=sample("character_status.json"))
    assert refresher.refresh(known(fakes)) == "not_indexed"  # valid, not indexed yet
    assert fakes.db.characters[5].is_active and fakes.db.characters[5].refreshed_at is None
    httpx_mock.add_response(url=PROFILE, status_code=404, json={"code": 404})
    httpx_mock.add_response(url=STATUS, status_code=404, json={"code": 404})
    assert refresher.refresh(known(fakes)) == "archived"
    assert fakes.db.characters[5].is_active is False


def guild(fakes: Fakes) -> int:
    fakes.db.guilds[40] = FakeGuild(
        40, "us", "retail", 40732076, "Enigma", "enigma", 3, "deathwing"
    )
    return 40


def test_a_roster_upserts_members_with_rank_and_unlinks_leavers(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    gid = guild(fakes)
    leaver = fakes.db.insert_character(
        user_id="u1", region="us", flavor="retail", realm_id=15, realm_slug="deathwing",
        blizzard_id=1, name="Leaver", guild_id=gid, guild_rank=2,
    )  # fmt: skip
    add_token(httpx_mock)
    httpx_mock.add_response(url=ROSTER, content=sample("guild_roster.json"), headers=MODIFIED)
    result = RosterSync(client, fakes.characters).sync(
        gid, Region.US, GameVersion.RETAIL, "deathwing", "enigma", None
    )
    assert result == "applied"
    members = [c for c in fakes.db.characters.values() if c.guild_id == gid]
    assert sorted(c.name for c in members) == ["Sharkweak", "Spaawn7A2850", "Vanstr7A268A"]
    assert {c.guild_rank for c in members} == {4} and all(c.user_id is None for c in members)
    assert leaver.guild_id is None and leaver.guild_rank is None
    g = fakes.db.guilds[gid]
    assert g.member_count == 3 and g.roster_last_modified == datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_a_304_or_404_roster_only_touches_the_guild(
    client: BlizzardClient, fakes: Fakes, httpx_mock: HTTPXMock
) -> None:
    gid = guild(fakes)
    add_token(httpx_mock)
    roster = RosterSync(client, fakes.characters)
    httpx_mock.add_response(url=ROSTER, status_code=304)
    assert roster.sync(gid, Region.US, GameVersion.RETAIL, "deathwing", "enigma", SEEN) == (
        "not_modified"
    )
    assert httpx_mock.get_requests(url=ROSTER)[0].headers["If-Modified-Since"]
    touched = fakes.db.guilds[gid].roster_synced_at
    httpx_mock.add_response(url=ROSTER, status_code=404, json={"code": 404})
    assert roster.sync(gid, Region.US, GameVersion.RETAIL, "deathwing", "enigma", None) == (
        "not_found"
    )
    assert touched is not None and fakes.db.guilds[gid].roster_synced_at != touched
    assert fakes.db.characters == {}
