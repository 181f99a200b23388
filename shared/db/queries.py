"""Named SQL blocks, kept in `sql/queries/*.sql` and loaded once.

A block starts with a line `-- name: <name>` and runs to the next such line. Parameters are
psycopg named placeholders (`%(name)s`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

QUERIES_DIR = Path(__file__).resolve().parents[2] / "sql" / "queries"
_NAME = re.compile(r"^--\s*name:\s*(\S+)\s*$", re.MULTILINE)


def parse_blocks(text: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    matches = list(_NAME.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        if match.group(1) in blocks:
            raise ValueError(f"SQL block {match.group(1)!r} is defined twice")
        blocks[match.group(1)] = body
    return blocks


@functools.cache
def queries() -> dict[str, str]:
    found: dict[str, str] = {}
    for file in sorted(QUERIES_DIR.glob("*.sql")):
        for name, body in parse_blocks(file.read_text()).items():
            if name in found:
                raise ValueError(f"SQL block {name!r} is defined twice ({file.name})")
            found[name] = body
    return found


def query(name: str) -> str:
    try:
        return queries()[name]
    except KeyError:
        raise KeyError(f"no SQL block named {name!r} in {QUERIES_DIR}") from None
