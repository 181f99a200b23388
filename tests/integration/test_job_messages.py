"""Every SQL producer of a queued message writes exactly the shape of its job's model
(defined beside its job in `shared/jobs/`, extra fields forbidden), and job bodies cannot enqueue
twice."""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from shared.jobs.accounts import ProfileSync
from shared.jobs.enrich import EnrichCharacter
from shared.jobs.messages import Message
from shared.jobs.scheduled import GuildRoster, RefreshCharacter, StaticData
from tests.integration.helpers import char, claim, login, sql, start

MODELS: dict[str, type[Message]] = {
    model.model_fields["type"].default: model
    for model in (EnrichCharacter, ProfileSync, RefreshCharacter, GuildRoster, StaticData)
}


def messages(db: PsycopgDatabase, queue: str) -> list[Any]:
    """The queue's messages, each parsed by the model its `type` names (extra fields fail)."""
    return [MODELS[d.message["type"]].model_validate(d.message) for d in claim(db, queue, 100)]


def test_every_producer_matches_its_model(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo, queue="character_sync")
    [first] = messages(db, "character_sync")
    assert isinstance(first, ProfileSync) and first.reason == "login"

    sid = start(repo, user, [char(1, "A"), char(2, "B")])["sessionId"]
    enrich = messages(db, "character_sync")
    assert all(isinstance(m, EnrichCharacter) and str(m.session_id) == sid for m in enrich)
    sql(db, "update character_sync_sessions set status = 'completed'")
    one = repo.sessions.enqueue_character_enrichment(user, enrich[0].character_id, "character_sync")
    assert one is not None
    assert isinstance(messages(db, "character_sync")[0], EnrichCharacter)

    sql(db, "update users set last_profile_sync_at = now() - interval '2 days'")
    sql(db, "update users set auto_sync = 'daily', sync_game_versions = '{retail,classic_era}'")
    assert repo.queue.run_job("enqueue_profile_refreshes") == 1
    scheduled = messages(db, "profile_sync")
    assert all(isinstance(m, ProfileSync) and m.reason == "scheduled" for m in scheduled)
    assert [m.game_version for m in scheduled] == ["retail", "classic_era"]

    sql(
        db,
        "update characters set enriched_at = now() - interval '30 days', "
        "last_modified = now() - interval '30 days', last_enqueued_at = null",
    )
    assert repo.queue.run_job("enqueue_character_refreshes") == 2
    refresh = messages(db, "character_refresh")
    assert all(isinstance(m, RefreshCharacter) and m.last_modified for m in refresh)
    refreshed = repo.characters.refresh_account_characters(
        user_id=user,
        region="us",
        flavor="retail",
        characters=[char(1, "A")],
        archive_missing=False,
        queue="character_refresh",
    )
    assert refreshed == 1 and isinstance(messages(db, "character_refresh")[0], RefreshCharacter)

    sql(
        db,
        "insert into guilds (region, flavor, blizzard_id, name, slug, realm_id, realm_slug) "
        "values ('us', 'retail', 9, 'G', 'g', 1, 'area-52')",
    )
    sql(db, "update characters set guild_id = (select id from guilds)")
    assert repo.queue.run_job("enqueue_guild_rosters") == 1
    assert isinstance(messages(db, "guild_roster")[0], GuildRoster)

    assert repo.queue.run_job("enqueue_static_sync") == 1
    assert isinstance(messages(db, "static_data")[0], StaticData)


def test_one_pending_enrichment_per_character(db: PsycopgDatabase) -> None:
    repo = Repositories.over(db)
    user = login(repo)
    result = start(repo, user, [char(1, "A")])
    sql(db, "update character_sync_sessions set status = 'completed'")
    sql(db, "delete from pgmq.q_character_sync")
    cid = result["characters"][0]["id"]
    first = repo.sessions.enqueue_character_enrichment(user, cid, "character_sync")
    second = repo.sessions.enqueue_character_enrichment(user, cid, "character_sync")
    assert first and second and first.answer["pending"] is False and second.answer["pending"]
    assert (second.answer["sessionId"], second.answer["jobId"]) == (
        first.answer["sessionId"],
        first.answer["jobId"],
    )
    assert len(claim(db, "character_sync", 10)) == 1


def test_a_job_body_run_by_hand_and_by_cron_enqueues_once(db: PsycopgDatabase) -> None:
    """The advisory transaction lock: a second run while one holds it enqueues nothing."""
    holder = psycopg.connect(db.dsn, autocommit=False)
    holder.execute("select public.job_lock('enqueue_static_sync')")
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.append(Repositories.over(db).queue.run_job("enqueue_static_sync"))
    )
    thread.start()
    thread.join(10)
    holder.rollback()
    holder.close()
    assert results == [0]
    assert Repositories.over(db).queue.run_job("enqueue_static_sync") == 1
