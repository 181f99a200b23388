"""The registry: message type to job, and parsing a queued message into its model."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from shared.jobs.base import Job
from shared.jobs.messages import Message


class UnknownMessage(Exception):
    """A message no job takes, or one that does not match its model: dead-lettered at once."""


class Registry:
    def __init__(self, jobs: Iterable[Job[Any]]) -> None:
        self.jobs: dict[str, Job[Any]] = {}
        for job in jobs:
            name = job.message.model_fields["type"].default
            if name in self.jobs:
                raise ValueError(f"two jobs for message type {name!r}")
            self.jobs[name] = job

    def resolve(self, body: dict[str, Any]) -> tuple[Job[Any], Message]:
        job = self.jobs.get(str(body.get("type")))
        if job is None:
            raise UnknownMessage(f"unknown message type {body.get('type')!r}")
        try:
            message = job.message.model_validate(body)
        except ValidationError as exc:
            raise UnknownMessage(
                f"malformed {body.get('type')} message: {exc.error_count()} errors"
            ) from None
        return job, message
