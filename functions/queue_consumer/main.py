"""The queue consumer (service key).

POST /functions/v1/queue-consumer {maxMessages?, maxSeconds?, visibilityTimeout?, idleSeconds?}:
    drains up to maxMessages or maxSeconds of queued work, interactive queues first (after
    the queues run empty it looks again for idleSeconds), and answers
    {processed, failed, retried, deadLettered, paused, remaining}.
POST /functions/v1/queue-consumer/requeue {queue?, since?, reason?, limit?}: puts dead letters
    back as fresh work (attempts start again; an enrichment's session reopens when it is still
    the user's latest) and answers {requeued, skipped, byQueue}.
POST /functions/v1/queue-consumer/prune {afterDays?, batchSize?, maxBatches?}: the daily prune
    now (characters of no user unseen in a roster for afterDays, default
    CHARACTER_PRUNE_AFTER_DAYS; memberless guilds); answers what it removed.
GET /functions/v1/queue-consumer/status: per-queue depth, oldest message age, dead letters in
    the last day, the Battle.net budget of the current window (used, bulk and interactive
    shares, reserve, window end), paused jobs, the per-second limiter, the cron jobs, and the
    consumer (`consumer`: the pgmq version, its last run, last success and last error with its
    SQLSTATE and the errors since, what stops the pg_net call and its last responses) and the
    last prune (`prune`: rows removed and when).
"""

from __future__ import annotations

from datetime import datetime

import flask
import functions_framework
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Caller
from shared.bootstrap import check_settings, get_app
from shared.db.queue import Queue
from shared.http import endpoint, json_response, parse_body
from shared.jobs.consumer import consume as drain
from shared.jobs.worker import DEFAULT_VISIBILITY_TIMEOUT, WorkerOptions
from shared.routing import SERVICE, Routes

check_settings()
routes = Routes(mount="/functions/v1/queue-consumer")


class RequeueRequest(BaseModel):
    """Which dead letters to put back: a queue, those archived since a time, those whose reason
    contains a text; at most `limit`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    queue: Queue | None = None
    since: datetime | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    limit: int = Field(default=1000, ge=1, le=100_000)


class ConsumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_messages: int = Field(default=100, ge=1, le=10_000, alias="maxMessages")
    max_seconds: float = Field(default=20.0, gt=0, le=600, alias="maxSeconds")
    # after the queues run empty, look again for this long before answering (pg_net's calls)
    idle_seconds: float = Field(default=0.0, ge=0, le=60, alias="idleSeconds")
    visibility_timeout: int = Field(
        default=DEFAULT_VISIBILITY_TIMEOUT, ge=1, le=3600, alias="visibilityTimeout"
    )


@routes.post("/functions/v1/queue-consumer", caller=SERVICE)
def consume(request: flask.Request, caller: Caller) -> flask.Response:
    app = get_app()
    body = parse_body(request, ConsumeRequest)
    worker = app.worker(WorkerOptions(visibility_timeout=body.visibility_timeout))
    result = drain(app.repos.queue, worker, body.max_messages, body.max_seconds, body.idle_seconds)
    return json_response(result.as_json())


@routes.post("/functions/v1/queue-consumer/requeue", caller=SERVICE)
def requeue(request: flask.Request, caller: Caller) -> flask.Response:
    ask = parse_body(request, RequeueRequest)
    queue = ask.queue.value if ask.queue else None
    return json_response(
        get_app().repos.queue.requeue_dead_letters(queue, ask.since, ask.reason, ask.limit)
    )


class PruneRequest(BaseModel):
    """A prune run by hand: characters of no user unseen in a roster for `afterDays` (default
    CHARACTER_PRUNE_AFTER_DAYS), at most `maxBatches` batches of `batchSize`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    after_days: int | None = Field(default=None, ge=1, le=3650, alias="afterDays")
    batch_size: int = Field(default=1000, ge=1, le=10_000, alias="batchSize")
    max_batches: int = Field(default=50, ge=1, le=1000, alias="maxBatches")


@routes.post("/functions/v1/queue-consumer/prune", caller=SERVICE)
def prune(request: flask.Request, caller: Caller) -> flask.Response:
    app = get_app()
    ask = parse_body(request, PruneRequest)
    days = ask.after_days or app.settings.character_prune_after_days
    return json_response(
        app.repos.characters.prune_characters(days, ask.batch_size, ask.max_batches)
    )


@routes.get("/functions/v1/queue-consumer/status", caller=SERVICE)
def status(request: flask.Request, caller: Caller) -> flask.Response:
    return json_response(get_app().repos.queue.queue_status())


@functions_framework.http
@endpoint
def queue_consumer(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return routes.dispatch(request, get_app().auth)
