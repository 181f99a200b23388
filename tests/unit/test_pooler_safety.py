"""What a transaction-mode pooler (Supabase's port 6543) cannot carry from one transaction to
the next, kept out of the code that runs on pooled connections: session advisory locks,
LISTEN, session-level settings. pgbouncer would not refuse these (the pooler runs of the
handler and end-to-end tests cannot catch them): they would silently stay on a backend that
another client gets next."""

from __future__ import annotations

import re

import pytest

from shared.db.queries import parse_blocks
from tests.conftest import ROOT

POOLED = [
    *(ROOT / "shared").rglob("*.py"),
    *(ROOT / "functions").rglob("*.py"),
    *(ROOT / "sql" / "queries").glob("*.sql"),
    *(ROOT / "supabase" / "migrations").glob("*.sql"),
]
SESSION_STATE = {
    "session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.I),
    "LISTEN": re.compile(r"^\s*listen\s|['\"]listen\s|\.notifies\(", re.I | re.M),
    "session-level set_config": re.compile(r"set_config\s*\([^;]*?,\s*false\s*\)", re.I),
}
#: A statement of a named query block that is a SET without LOCAL.
SESSION_SET = re.compile(r"(?:^|;)\s*set\s+(?!local\b)", re.I)


@pytest.mark.parametrize("what", sorted(SESSION_STATE))
def test_no_session_state_on_pooled_connections(what: str) -> None:
    pattern = SESSION_STATE[what]
    found = [
        f"{path.relative_to(ROOT)}: {m.group(0).strip()}"
        for path in POOLED
        for m in pattern.finditer(path.read_text())
    ]
    assert found == []


def test_no_named_query_sets_a_session_setting() -> None:
    blocks = {
        name: body
        for path in (ROOT / "sql" / "queries").glob("*.sql")
        for name, body in parse_blocks(path.read_text()).items()
    }
    assert blocks and [n for n, body in blocks.items() if SESSION_SET.search(body)] == []


def test_the_patterns_find_what_they_look_for() -> None:
    samples = {
        "session advisory lock": "perform pg_advisory_lock(42);",
        "LISTEN": "  listen sync_events;",
        "session-level set_config": "select set_config('statement_timeout', '1', false)",
    }
    for what, sample in samples.items():
        assert SESSION_STATE[what].search(sample), what
    assert not SESSION_STATE["session advisory lock"].search("pg_advisory_xact_lock(1)")
    assert not SESSION_STATE["session-level set_config"].search("set_config('a', '1', true)")
    assert SESSION_SET.search("set statement_timeout = 1000; select 1")
    assert SESSION_SET.search("select 1; set role postgres")
    assert not SESSION_SET.search("set local statement_timeout = 1000; select 1")
    assert not SESSION_SET.search("update t set a = 1")
