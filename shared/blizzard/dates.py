"""HTTP dates, as Battle.net sends them in `Last-Modified` and takes them in
`If-Modified-Since` (RFC 9110 IMF-fixdate, always GMT).

A conditional request sends the `Last-Modified` stored from the previous answer; Battle.net
answers 304 when nothing changed (`Fetched.not_modified`), which costs no parsing and writes
nothing. A header that does not parse is treated as absent, never as an error.
"""

from __future__ import annotations

import email.utils
from datetime import datetime


def http_date(value: datetime) -> str:
    """`datetime(2026, 11, 1, 12, tzinfo=UTC)` -> `'Sun, 01 Nov 2026 12:00:00 GMT'`."""
    return email.utils.format_datetime(value, usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """The datetime of an HTTP date header, or None when it is missing or malformed."""
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
