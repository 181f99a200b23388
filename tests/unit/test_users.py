"""`UserDirectory` over the in-memory users: a user's token acts for that user only; the
service key names a user by id or by Battle.net account id."""

from __future__ import annotations

import uuid

import pytest

from shared.auth.claims import SERVICE_ROLE, Caller
from shared.errors import BadRequest, Forbidden, NotFound
from shared.services.users import UserDirectory, UserSelector
from tests.fakes import Fakes

SERVICE = Caller(SERVICE_ROLE, None, {})


def registered(fakes: Fakes, battlenet_id: int) -> uuid.UUID:
    return fakes.users.upsert_login(
        battlenet_id=battlenet_id, battletag=None, region="eu", ciphertext="-", key_id="-",
        expires_at="2999-01-01T00:00:00+00:00", scopes=[], sync_queue=None,
    ).id  # fmt: skip


def test_a_user_acts_for_themselves_only(fakes: Fakes) -> None:
    alice, bob = registered(fakes, 1), registered(fakes, 2)
    directory = UserDirectory(fakes.users)
    caller = Caller("authenticated", alice, {})
    assert directory.acting_user(caller, UserSelector()) == alice
    assert directory.acting_user(caller, UserSelector(user_id=alice)) == alice
    for other in (UserSelector(user_id=bob), UserSelector(battlenet_id=1)):
        with pytest.raises(Forbidden):
            directory.acting_user(caller, other)


def test_the_service_key_names_an_existing_user(fakes: Fakes) -> None:
    alice = registered(fakes, 100012)
    directory = UserDirectory(fakes.users)
    assert directory.acting_user(SERVICE, UserSelector(battlenet_id=100012)) == alice
    assert directory.acting_user(SERVICE, UserSelector(user_id=alice)) == alice
    with pytest.raises(BadRequest, match="name the user"):
        directory.acting_user(SERVICE, UserSelector())
    with pytest.raises(NotFound, match="account id 7"):
        directory.acting_user(SERVICE, UserSelector(battlenet_id=7))
    with pytest.raises(NotFound, match="no user"):
        directory.acting_user(SERVICE, UserSelector(user_id=uuid.uuid4()))
