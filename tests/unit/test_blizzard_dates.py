"""HTTP dates as Battle.net sends and takes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.blizzard.dates import http_date, parse_http_date


def test_http_date_is_gmt_imf_fixdate() -> None:
    assert http_date(datetime(2026, 11, 1, 12, 0, tzinfo=UTC)) == "Sun, 01 Nov 2026 12:00:00 GMT"


def test_parse_round_trips() -> None:
    stamp = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    assert parse_http_date(http_date(stamp)) == stamp
    assert parse_http_date("Mon, 02 Nov 2026 08:30:00 GMT") == stamp


@pytest.mark.parametrize("value", [None, "", "yesterday", "Mon, 99 Nov 2026 08:30:00 GMT"])
def test_a_missing_or_malformed_date_is_none(value: str | None) -> None:
    assert parse_http_date(value) is None
