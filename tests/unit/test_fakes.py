"""Each in-memory repository implements its Protocol completely: every method, with the same
parameters (what mypy checks of the SQL ones, checked here of the fakes at run time)."""

from __future__ import annotations

import inspect
from typing import Any, get_type_hints

import pytest

from shared.db.repositories import Repositories
from tests.fakes import Fakes

ROLES = get_type_hints(Repositories)


def methods(cls: type[Any]) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_fake_has_every_method_of_its_protocol(role: str) -> None:
    protocol = ROLES[role]
    fake = type(getattr(Fakes(), role))
    wanted, found = methods(protocol), methods(fake)
    assert wanted, f"{protocol.__name__} declares no method"
    assert set(wanted) <= set(found), f"{fake.__name__} lacks {set(wanted) - set(found)}"
    for name, signature in wanted.items():
        assert list(signature.parameters) == list(found[name].parameters), name


@pytest.mark.parametrize("role", sorted(ROLES))
def test_a_protocol_holds_one_concern(role: str) -> None:
    assert len(methods(ROLES[role])) <= 12  # more is a sign of two concerns (STYLE.md)
