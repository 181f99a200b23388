"""Builders for integration tests."""

from __future__ import annotations

from typing import Any

from shared.db.protocol import Repository


def login(repo: Repository, battlenet_id: int = 1001, queue: str | None = None) -> str:
    user = repo.upsert_login(
        p_battlenet_id=battlenet_id,
        p_battletag=f"Player#{battlenet_id}",
        p_region="us",
        p_ciphertext="v1.k.opaque",
        p_key_id="k",
        p_expires_at="2999-01-01T00:00:00+00:00",
        p_scopes=["openid", "wow.profile"],
        p_sync_queue=queue,
    )
    return str(user["id"])


def char(blizzard_id: int, name: str, realm_id: int = 1, slug: str = "area-52") -> dict[str, Any]:
    return {
        "blizzard_id": blizzard_id,
        "name": name,
        "realm_id": realm_id,
        "realm_slug": slug,
        "realm_name": slug.replace("-", " ").title(),
        "level": 70,
        "class_id": 1,
        "class_name": "Warrior",
        "race_id": 2,
        "race_name": "Orc",
        "faction": "HORDE",
        "gender": "MALE",
    }


def start(
    repo: Repository, user_id: str, characters: list[dict[str, Any]], flavor: str = "retail"
) -> dict[str, Any]:
    return repo.start_character_sync(
        p_user_id=user_id,
        p_region="us",
        p_flavor=flavor,
        p_game_version="retail" if flavor == "retail" else "classic_era",
        p_characters=characters,
        p_queue="character_sync",
        p_archive_missing=True,
    )
