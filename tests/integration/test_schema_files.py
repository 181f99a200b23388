"""`sql/schema/` is the schema the migrations make, one file per table and per function: a
migration added without `make schema` fails here, naming the files that differ."""

from __future__ import annotations

from devtools.pgcluster import Cluster
from devtools.schema import from_zero, read


def test_sql_schema_matches_the_migrations(cluster: Cluster) -> None:
    made, committed = from_zero(cluster), read()
    missing = sorted(set(made) - set(committed))
    stale = sorted(set(committed) - set(made))
    differ = sorted(p for p in set(made) & set(committed) if made[p] != committed[p])
    assert (missing, stale, differ) == ([], [], []), "run `make schema` and commit sql/schema/"


def test_each_function_is_defined_once_in_its_own_file() -> None:
    """A reader finds a function's current body by its name, in one place."""
    files = read()
    for path, text in files.items():
        if path.startswith("functions/"):
            name = path.removeprefix("functions/").removesuffix(".sql")
            assert f"FUNCTION public.{name}(" in text
    defined = [
        (path, line)
        for path, text in files.items()
        for line in text.splitlines()
        if line.startswith("CREATE FUNCTION public.")
    ]
    names = [line.split("public.", 1)[1].split("(", 1)[0] for _, line in defined]
    assert all(
        path == f"functions/{name}.sql" for (path, _), name in zip(defined, names, strict=True)
    )
    assert not any(name.endswith(("_unlocked", "_base")) for name in names)  # no rename-and-wrap
