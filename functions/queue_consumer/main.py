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

from typing import TYPE_CHECKING

import flask
import functions_framework

from shared.http import endpoint, json_response, parse_body
from shared.instance import check_settings, get_app
from shared.routing import SERVICE, Routes

if TYPE_CHECKING:
    from shared.auth import Caller

check_settings()  # a bad setting fails the start, naming the variable
routes = Routes(mount="/functions/v1/queue-consumer")


@routes.post("/functions/v1/queue-consumer", caller=SERVICE)
def consume(request: flask.Request, caller: Caller) -> flask.Response:
    from shared.bodies import ConsumeRequest  # on the first request
    from shared.jobs.consumer import consume as drain
    from shared.jobs.worker import WorkerOptions

    app = get_app()
    body = parse_body(request, ConsumeRequest)
    worker = app.worker(WorkerOptions(visibility_timeout=body.visibility_timeout))
    result = drain(app.repos.queue, worker, body.max_messages, body.max_seconds, body.idle_seconds)
    return json_response(result.as_json())


@routes.post("/functions/v1/queue-consumer/requeue", caller=SERVICE)
def requeue(request: flask.Request, caller: Caller) -> flask.Response:
    from shared.bodies import RequeueRequest

    ask = parse_body(request, RequeueRequest)
    queue = ask.queue.value if ask.queue else None
    return json_response(
        get_app().repos.queue.requeue_dead_letters(queue, ask.since, ask.reason, ask.limit)
    )


@routes.post("/functions/v1/queue-consumer/prune", caller=SERVICE)
def prune(request: flask.Request, caller: Caller) -> flask.Response:
    from shared.bodies import PruneRequest

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
