"""The prune by hand through the function: CHARACTER_PRUNE_AFTER_DAYS by default, a body's
afterDays otherwise, bad input a 400 with nothing deleted, service callers only; the status
shows the last run."""

from __future__ import annotations

from flask.testing import FlaskClient

from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from tests.integration.helpers import sql

PRUNE = "/functions/v1/queue-consumer/prune"


def orphan(db: PsycopgDatabase, blizzard_id: int, seen_days_ago: int) -> None:
    sql(
        db,
        "insert into characters (region, flavor, realm_id, realm_slug, blizzard_id, name, "
        "last_seen_in_roster_at) values ('us', 'retail', 1, 'area-52', %s, 'Orphan', "
        "now() - make_interval(days => %s))",
        blizzard_id,
        seen_days_ago,
    )


def count(db: PsycopgDatabase) -> int:
    return int(sql(db, "select count(*) as n from characters")[0]["n"])


def test_prune_by_hand(
    consumer: FlaskClient, app: App, db: PsycopgDatabase, service_headers: dict[str, str]
) -> None:
    assert app.settings.character_prune_after_days == 90
    orphan(db, 1, 120)
    orphan(db, 2, 60)
    assert consumer.post(PRUNE, json={"afterDays": 0}, headers=service_headers).status_code == 400
    assert consumer.post(PRUNE, json={"nope": 1}, headers=service_headers).status_code == 400
    assert consumer.post(PRUNE, json={}).status_code == 401
    assert count(db) == 2
    answer = consumer.post(PRUNE, json={}, headers=service_headers)
    assert answer.status_code == 200 and answer.json is not None
    assert answer.json["characters"] == 1 and count(db) == 1  # the 90 days of the setting
    answer = consumer.post(PRUNE, json={"afterDays": 30}, headers=service_headers)
    assert answer.json is not None and answer.json["characters"] == 1 and count(db) == 0
    status = consumer.get("/functions/v1/queue-consumer/status", headers=service_headers).json
    assert status is not None and status["prune"]["afterDays"] == 30
