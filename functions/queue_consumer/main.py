"""The queue consumer (service key).

POST /functions/v1/queue-consumer {maxMessages?, maxSeconds?, visibilityTimeout?}: drains up to
    maxMessages or maxSeconds of queued work, interactive queues first, and answers
    {processed, failed, retried, deadLettered, remaining}.
GET /functions/v1/queue-consumer/status: per-queue depth, oldest message age, dead letters in
    the last day, the rate limiter's state and the cron jobs.
"""

from __future__ import annotations

import flask
import functions_framework
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import Caller
from shared.bootstrap import check_settings, get_app
from shared.http import endpoint, json_response, parse_body
from shared.routing import SERVICE, Routes
from shared.worker import DEFAULT_VISIBILITY_TIMEOUT, WorkerOptions

check_settings()
routes = Routes(mount="/functions/v1/queue-consumer")


class ConsumeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    max_messages: int = Field(default=100, ge=1, le=10_000, alias="maxMessages")
    max_seconds: float = Field(default=20.0, gt=0, le=600, alias="maxSeconds")
    visibility_timeout: int = Field(
        default=DEFAULT_VISIBILITY_TIMEOUT, ge=1, le=3600, alias="visibilityTimeout"
    )


@routes.post("/functions/v1/queue-consumer", caller=SERVICE)
def consume(request: flask.Request, caller: Caller) -> flask.Response:
    app = get_app()
    body = parse_body(request, ConsumeRequest)
    worker = app.worker(WorkerOptions(visibility_timeout=body.visibility_timeout))
    result = worker.run(max_messages=body.max_messages, max_seconds=body.max_seconds)
    return json_response(result.as_json())


@routes.get("/functions/v1/queue-consumer/status", caller=SERVICE)
def status(request: flask.Request, caller: Caller) -> flask.Response:
    return json_response(get_app().repo.queue_status())


@functions_framework.http
@endpoint
def queue_consumer(request: flask.Request) -> flask.typing.ResponseReturnValue:
    return routes.dispatch(request, get_app().settings.supabase_jwt_secret.get_secret_value())
