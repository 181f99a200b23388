"""The stack runner's static-data query (sql/queries/local_stack.sql) on the real Postgres."""

from __future__ import annotations

from devtools.pgcluster import Cluster
from devtools.static_watch import DatabaseStaticData, StaticDataState
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.db.repositories import Repositories
from tests.integration.helpers import claim


def test_state_follows_the_queue_its_dead_letters_and_the_tables(
    cluster: Cluster, db: PsycopgDatabase
) -> None:
    source = DatabaseStaticData(cluster.dsn())
    repo = Repositories.over(db)
    assert source.state() == StaticDataState(0, 0, 0, 0, 0, None, None)

    assert source.enqueue() == 1
    assert source.enqueue() == 0  # one queued is enough
    assert source.state().queued == 1
    (message,) = claim(db, "static_data", 1, vt=0)
    (message,) = claim(db, "static_data", 1, vt=0)
    assert source.state().reads == 2

    repo.queue.queue_settle(message, "dead", reason="Battle.net answered 503")
    state = source.state()
    assert (state.queued, state.reads) == (0, 0)
    assert (state.last_dead_id, state.last_dead_error) == (
        message.msg_id,
        "Battle.net answered 503",
    )

    assert source.enqueue() == 1
    (again,) = claim(db, "static_data", 1, vt=0)
    with db.connection() as conn:  # archived without a dead letter: not a failure
        conn.execute("select pgmq.archive('static_data', %s)", (again.msg_id,))
    assert source.state().last_dead_id == message.msg_id

    with db.connection() as conn:
        conn.execute("insert into wow_classes (flavor, id, name) values ('', 1, 'Warrior')")
        conn.execute(
            "insert into wow_races (flavor, id, name, faction) values ('', 2, 'Orc', 'HORDE')"
        )
    state = source.state()
    assert (state.classes, state.races, state.realms) == (1, 1, 0)
