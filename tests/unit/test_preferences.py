"""`SyncPreferences` over the in-memory users: defaults, partial updates, game versions
checked and deduplicated, and the next scheduled sync (or why there is none)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from shared.errors import BadRequest, NotFound
from shared.services.preferences import SyncPreferences, SyncPreferencesUpdate
from tests.fakes import Fakes


def registered(fakes: Fakes, expires_in: timedelta = timedelta(hours=23)) -> uuid.UUID:
    return fakes.users.upsert_login(
        battlenet_id=1, battletag=None, region="eu", ciphertext="-", key_id="-",
        expires_at=(fakes.db.now() + expires_in).isoformat(), scopes=[], sync_queue=None,
    ).id  # fmt: skip


def test_defaults_then_a_partial_update_keeps_the_rest(fakes: Fakes) -> None:
    user = registered(fakes)
    preferences = SyncPreferences(fakes.users)
    assert preferences.get(user) == {
        "autoSync": "on_login", "gameVersions": ["retail"], "nextSyncAt": None,
        "reason": "on_login",
    }  # fmt: skip
    change = SyncPreferencesUpdate.model_validate(
        {"gameVersions": ["classic_era", "retail", "classic_era"]}
    )
    updated = preferences.update(user, change)
    assert updated["gameVersions"] == ["classic_era", "retail"]  # in order, once each
    assert updated["autoSync"] == "on_login"
    off = preferences.update(user, SyncPreferencesUpdate.model_validate({"autoSync": "off"}))
    assert off["gameVersions"] == ["classic_era", "retail"] and off["reason"] == "auto_sync_off"


def test_daily_gives_the_next_run_within_the_login(fakes: Fakes) -> None:
    user = registered(fakes)
    fakes.db.users[str(user)].last_profile_sync_at = fakes.db.now()
    daily = SyncPreferences(fakes.users).update(
        user, SyncPreferencesUpdate.model_validate({"autoSync": "daily"})
    )
    assert daily["reason"] is None and daily["nextSyncAt"] is not None
    fakes.db.users[str(user)].token_expires_at = fakes.db.now() + timedelta(hours=10)
    assert SyncPreferences(fakes.users).get(user)["reason"] == "login_expires_first"
    fakes.users.mark_relogin_required(user)
    assert SyncPreferences(fakes.users).get(user)["reason"] == "login_required"


def test_an_unknown_version_is_a_400_and_an_unknown_user_a_404(fakes: Fakes) -> None:
    user = registered(fakes)
    preferences = SyncPreferences(fakes.users)
    with pytest.raises(BadRequest, match="retail"):
        preferences.update(user, SyncPreferencesUpdate.model_validate({"gameVersions": ["wotlk"]}))
    assert preferences.get(user)["gameVersions"] == ["retail"]
    with pytest.raises(NotFound):
        preferences.get(uuid.uuid4())
