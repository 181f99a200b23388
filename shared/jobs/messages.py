"""What every queued message is: a pydantic model of the exact shape the SQL that enqueues writes
(camelCase, nothing extra). Each model sits next to its job (`enrich`, `accounts`, `scheduled`);
`tests/integration/test_job_messages.py` checks every SQL producer against its model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Message(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, alias_generator=to_camel
    )
