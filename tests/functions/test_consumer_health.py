"""The consumer's health through the function: a schema error is answered as a 5xx with an error
id (not "try again in a minute") and shows in `/queue-consumer/status` after one call; the status
names the pgmq version; an unsupported pgmq stops the consumer with one line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from devtools.migrate import PGMQ_VERSION
from shared.bootstrap import App
from shared.db.psycopg_adapter import PsycopgDatabase
from shared.jobs import consumer as consumer_module

CONSUMER = "/functions/v1/queue-consumer"


@pytest.fixture
def broken_claim(db: PsycopgDatabase) -> Iterator[None]:
    """A schema the code does not match: the claim function is missing."""
    signature = "public.queue_claim(text, integer, integer, boolean)"
    with db.connection() as conn:
        conn.execute(f"alter function {signature} rename to queue_claim_gone")  # type: ignore[arg-type]
    try:
        yield
    finally:
        with db.connection() as conn:
            conn.execute(
                "alter function public.queue_claim_gone(text, integer, integer, boolean) "
                "rename to queue_claim"
            )


def test_a_schema_error_is_a_5xx_with_an_id_and_shows_in_the_status(
    consumer: FlaskClient,
    app: App,
    service_headers: dict[str, str],
    broken_claim: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = consumer.post(CONSUMER, json={"maxSeconds": 1}, headers=service_headers)
    assert answer.status_code == 500
    error = answer.json["error"]  # type: ignore[index]
    assert error["code"] == "database_schema_error"
    assert "try again" not in error["message"]
    logged = [r.getMessage() for r in caplog.records if error["id"] in r.getMessage()]
    assert logged and "42883" in logged[0] and "queue_claim" in logged[0]

    status = consumer.get(f"{CONSUMER}/status", headers=service_headers).json
    health = status["consumer"]  # type: ignore[index]
    assert health["lastError"]["code"] == "42883"
    assert health["errorsSinceLastSuccess"] == 1
    assert health["lastRunAt"] is not None


def test_a_good_call_clears_the_count_and_the_status_names_pgmq(
    consumer: FlaskClient, app: App, service_headers: dict[str, str]
) -> None:
    app.repos.queue.queue_consumer_report(False, "earlier failure", "42703")
    drained = consumer.post(CONSUMER, json={"maxSeconds": 1}, headers=service_headers)
    assert drained.status_code == 200
    health = consumer.get(f"{CONSUMER}/status", headers=service_headers).json["consumer"]  # type: ignore[index]
    assert health["pgmq"] == PGMQ_VERSION
    assert health["errorsSinceLastSuccess"] == 0
    assert health["lastSuccessAt"] is not None
    assert health["lastError"]["code"] == "42703"  # the last one is kept, with when


def test_an_unsupported_pgmq_stops_the_consumer_with_one_line(
    consumer: FlaskClient,
    app: App,
    service_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(app.repos.queue, "pgmq_version", lambda: "1.3.0")
    monkeypatch.setattr(consumer_module, "_checked", set())
    answer = consumer.post(CONSUMER, json={"maxSeconds": 1}, headers=service_headers)
    assert answer.status_code == 500
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "unsupported pgmq 1.3.0; supported: 1.4.4 or a later 1.x" in logged
