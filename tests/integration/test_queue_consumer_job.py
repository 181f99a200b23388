"""The pg_net consumer job and the poke on a new session, against stand-ins of pg_net and Vault
(tests/integration/standins/net_and_vault.sql) in the test database."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from devtools.pgcluster import Cluster
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.errors import DataError
from tests.integration.helpers import as_platform, sql
from tests.integration.sql_calls import call, character, new_enrichment, new_sync, new_user

CONSUMER_URL = "https://functions.test.invalid/functions/v1/queue-consumer"


def requests(db: PsycopgDatabase) -> list[dict[str, Any]]:
    return sql(db, "select * from net.requests order by id")


def scalar(db: PsycopgDatabase, statement: str) -> Any:
    return next(iter(sql(db, statement)[0].values()))


def let_throttle_pass(db: PsycopgDatabase) -> None:
    sql(db, "update queue_consumer_pokes set poked_at = poked_at - interval '1 hour'")


def test_the_job_is_scheduled_without_pg_net(cluster: Cluster) -> None:
    with psycopg.connect(cluster.dsn()) as conn:
        assert conn.execute("select to_regnamespace('net')").fetchone() == (None,)
        job = conn.execute(
            "select schedule, command from cron.job where jobname = 'guild-sync-queue-consumer'"
        ).fetchone()
    assert job == ("* * * * *", "select public.invoke_queue_consumer()")


def cron_body_error(db: PsycopgDatabase) -> str:
    """What the cron job's body raises (pg_cron records it as the failed run's message)."""
    with pytest.raises(DataError) as raised:
        sql(db, "select public.invoke_queue_consumer()")
    assert raised.value.sqlstate == "55000"  # object_not_in_prerequisite_state
    return str(raised.value)


def test_without_pg_net_the_cron_run_fails_and_a_poke_sends_nothing(db: PsycopgDatabase) -> None:
    assert "pg_net is not installed" in cron_body_error(db)
    assert scalar(db, "select public.poke_queue_consumer()") is None
    assert new_sync(db, new_user(db, 1), [character(1, "A")])["conflict"] is False
    status = scalar(db, "select public.consumer_status()")
    assert status["cronCall"]["blocker"].startswith("pg_net is not installed")


def test_the_job_posts_with_the_vault_secrets(net_and_vault: PsycopgDatabase) -> None:
    db = net_and_vault
    request_id = scalar(db, "select public.invoke_queue_consumer()")
    [sent] = requests(db)
    assert sent["id"] == request_id
    assert sent["url"] == CONSUMER_URL  # the trailing slash of the secret is not doubled
    assert sent["headers"] == {
        "Authorization": "Bearer sb_secret_test-vault-key-0123456789",
        "Content-Type": "application/json",
    }
    assert sent["body"] == {"maxMessages": 200, "maxSeconds": 50, "idleSeconds": 10}
    # pg_net gives up after timeout_milliseconds: longer than the function's own budget.
    assert sent["timeout_milliseconds"] >= sent["body"]["maxSeconds"] * 1000 + 5000


def test_the_status_shows_the_last_pg_net_answers(net_and_vault: PsycopgDatabase) -> None:
    db = net_and_vault
    first = scalar(db, "select public.invoke_queue_consumer()")
    second = scalar(db, "select public.invoke_queue_consumer()")
    sql(db, "insert into net._http_response (id, status_code, timed_out) values "
            "(%s, 200, false), (%s, 500, false)", first, second)  # fmt: skip
    status = scalar(db, "select public.consumer_status()")
    assert status["cronCall"]["blocker"] is None
    answers = status["cronCall"]["lastResponses"]
    assert [(a["requestId"], a["status"], a["source"]) for a in answers] == [
        (second, 500, "cron"),
        (first, 200, "cron"),
    ]


@pytest.mark.parametrize("missing", ["guild_sync_functions_url", "guild_sync_service_role_key"])
def test_without_both_secrets_the_cron_run_fails_naming_the_secret(
    cluster: Cluster, net_and_vault: PsycopgDatabase, missing: str
) -> None:
    as_platform(cluster, f"delete from vault.secrets where name = '{missing}'")
    assert missing in cron_body_error(net_and_vault)
    assert scalar(net_and_vault, "select public.poke_queue_consumer()") is None
    assert requests(net_and_vault) == []


def test_a_database_setting_is_not_read(cluster: Cluster, net_and_vault: PsycopgDatabase) -> None:
    as_platform(cluster, "delete from vault.secrets where name = 'guild_sync_service_role_key'")
    with net_and_vault.connection() as conn:
        conn.execute("set app.service_role_key = 'from-a-setting'")
        conn.execute("set app.functions_url = 'https://setting.invalid'")
        try:
            assert conn.execute("select public.poke_queue_consumer() as id").fetchone() == {
                "id": None
            }
        finally:
            conn.execute("reset app.service_role_key")
            conn.execute("reset app.functions_url")
    assert requests(net_and_vault) == []


def test_starting_a_sync_or_an_enrichment_pokes_the_consumer_throttled(
    net_and_vault: PsycopgDatabase,
) -> None:
    db = net_and_vault
    alice, bob = new_user(db, 1), new_user(db, 2)
    result = new_sync(db, alice, [character(1, "A")])
    assert [(r["url"], r["body"]) for r in requests(db)] == [
        (CONSUMER_URL, {"maxMessages": 200, "maxSeconds": 50, "idleSeconds": 10})
    ]
    new_sync(db, bob, [character(2, "B")])  # within the window: the running consumer takes it
    assert len(requests(db)) == 1

    let_throttle_pass(db)
    assert new_enrichment(db, alice, result["characters"][0]["id"])
    assert len(requests(db)) == 2
    assert scalar(db, "select request_id from queue_consumer_pokes") == requests(db)[-1]["id"]


def test_a_login_that_queues_a_profile_sync_pokes(net_and_vault: PsycopgDatabase) -> None:
    db = net_and_vault
    new_user(db, 1)  # no queue given: nothing to run, no poke
    assert requests(db) == []
    call(db, "upsert_login", p_battlenet_id=2, p_battletag="B#2", p_region="us",
         p_ciphertext="c", p_key_id="k", p_expires_at="2999-01-01T00:00:00+00:00",
         p_scopes=None, p_sync_queue="character_sync")  # fmt: skip
    assert [r["url"] for r in requests(db)] == [CONSUMER_URL]


def test_a_sync_with_nothing_to_do_does_not_poke(net_and_vault: PsycopgDatabase) -> None:
    db = net_and_vault
    assert new_sync(db, new_user(db, 1), [])["conflict"] is False  # completed at once
    assert requests(net_and_vault) == []


def test_concurrent_starts_never_wait_for_the_poke(net_and_vault: PsycopgDatabase) -> None:
    """One transaction holds the poke (not yet committed); another start neither waits for it
    nor pokes twice."""
    db = net_and_vault
    alice, bob = new_user(db, 1), new_user(db, 2)
    scalar(db, "select public.poke_queue_consumer()")  # the throttle's row, as in production
    let_throttle_pass(db)
    insert = (
        "insert into character_sync_sessions (user_id, region, flavor, total_characters) "
        "values (%s, 'us', 'retail', 1)"
    )
    with psycopg.connect(db.dsn) as first, psycopg.connect(db.dsn) as second:
        first.execute(insert, (alice,))
        second.execute("set local statement_timeout = '2s'")
        second.execute(insert, (bob,))  # would time out if it queued behind `first`
        second.commit()
        first.commit()
    assert len(requests(db)) == 2


def test_a_failing_poke_does_not_fail_the_sync_nor_leak_the_key(
    cluster: Cluster, net_and_vault: PsycopgDatabase
) -> None:
    db = net_and_vault
    as_platform(  # a broken pg_net whose error message repeats what it was given
        cluster,
        "create or replace function net.http_post(url text, body jsonb default '{}', "
        "params jsonb default '{}', headers jsonb default '{}', "
        "timeout_milliseconds integer default 5000) returns bigint language plpgsql as "
        "$$ begin raise exception 'pg_net is broken: %', headers; end $$",
    )
    user = new_user(db, 1)
    notices: list[str] = []
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.add_notice_handler(lambda diag: notices.append(str(diag.message_primary)))
        conn.execute(
            "select public.start_character_sync(p_user_id => %s, p_region => 'us', "
            "p_flavor => 'retail', p_game_version => 'retail', p_characters => %s::jsonb)",
            (user, '[{"blizzard_id": 1, "name": "A", "realm_id": 1, "realm_slug": "area-52"}]'),
        )
    assert sql(db, "select status from character_sync_sessions") == [{"status": "processing"}]
    assert any("poke failed" in n for n in notices)
    assert not any("sb_secret_test-vault-key" in n for n in notices)
