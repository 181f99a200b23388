"""`CharacterStore` in memory, and the character writes sessions share with it: an account's
characters deduplicated by identity (region, flavor, realm id, Battle.net id; updated,
created or reactivated), the unlisted ones archived, transfers linked
(`upsert_account_characters`), and a profile applied (`apply_character_profile`), each with
the history rows the SQL trigger writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.db.base import UserId
from shared.db.characters import RefreshOutcome, RosterApplied
from shared.db.protocol import JSON
from tests.fakes.db import FakeCharacter, FakeDb, FakeGuild


def upsert_account_characters(
    db: FakeDb,
    user_id: str,
    region: str,
    flavor: str,
    characters: list[JSON],
    archive_missing: bool,
) -> list[int]:
    known = {
        c.id
        for c in db.characters.values()
        if (c.user_id, c.region, c.flavor) == (user_id, region, flavor)
    }
    ids: list[int] = []
    for row in characters:
        found = db.find_character(region, flavor, int(row["realm_id"]), int(row["blizzard_id"]))
        if found is None:
            found = db.insert_character(user_id=user_id, region=region, flavor=flavor, **row)
        else:
            found.user_id = user_id
            db.update_character(
                found, "sync",
                name=row["name"], realm_slug=row["realm_slug"],
                realm_name=row.get("realm_name") or found.realm_name, level=row.get("level"),
                class_id=row.get("class_id"),
                class_name=row.get("class_name") or found.class_name,
                race_id=row.get("race_id"), race_name=row.get("race_name") or found.race_name,
                faction=row.get("faction") or found.faction,
                gender=row.get("gender") or found.gender,
                is_active=True, archived_at=None,
            )  # fmt: skip
        ids.append(found.id)
    ids = sorted(set(ids))
    archived: list[FakeCharacter] = []
    if archive_missing:
        for c in list(db.characters.values()):
            if (c.user_id, c.region, c.flavor) == (user_id, region, flavor) and c.is_active:
                if c.id not in ids:
                    db.update_character(c, "sync", is_active=False, archived_at=db.now())
                    archived.append(c)
    for old in sorted(archived, key=lambda a: (-(a.level or 0), a.id)):
        if old.transferred_to is not None or old.class_id is None:
            continue
        candidates = [
            db.characters[i]
            for i in ids
            if i not in known
            and db.characters[i].transferred_from is None
            and db.characters[i].class_id == old.class_id
            and db.characters[i].realm_id != old.realm_id
            and (db.characters[i].level or 0) >= (old.level or 0)
        ]
        if candidates:
            new = min(
                candidates,
                key=lambda n: (n.name != old.name, (n.level or 0) - (old.level or 0), n.id),
            )
            db.update_character(old, "sync", transferred_to=new.id)
            db.update_character(new, "sync", transferred_from=old.id)
    if (user := db.users.get(user_id)) is not None:
        user.last_profile_sync_at = db.now()
    return ids


def apply_character_profile(db: FakeDb, character_id: int, data: JSON, source: str) -> None:
    c = db.characters.get(character_id)
    if c is None:
        return
    guild_id = None
    if isinstance(g := data.get("guild"), dict):
        guild = next(
            (
                x
                for x in db.guilds.values()
                if (x.region, x.flavor, x.blizzard_id) == (c.region, c.flavor, g["blizzard_id"])
            ),
            None,
        )
        if guild is None:
            guild = FakeGuild(
                db.next_id(), c.region, c.flavor, int(g["blizzard_id"]), g["name"], g.get("slug"),
                int(g["realm_id"]), g["realm_slug"], g.get("realm_name"), g.get("faction"),
            )  # fmt: skip
            db.guilds[guild.id] = guild
        else:
            guild.name, guild.slug, guild.realm_slug = g["name"], g.get("slug"), g["realm_slug"]
        guild_id = guild.id
    media = data.get("media") if isinstance(data.get("media"), dict) else None
    login_ms = data.get("last_login_timestamp")
    modified = data.get("last_modified")

    def keep(key: str, current: Any) -> Any:
        return current if data.get(key) is None else data[key]

    db.update_character(
        c, source,
        name=keep("name", c.name), realm_name=keep("realm_name", c.realm_name),
        level=keep("level", c.level), class_id=keep("class_id", c.class_id),
        class_name=keep("class_name", c.class_name), race_id=keep("race_id", c.race_id),
        race_name=keep("race_name", c.race_name), faction=keep("faction", c.faction),
        gender=keep("gender", c.gender),
        average_item_level=keep("average_item_level", c.average_item_level),
        equipped_item_level=keep("equipped_item_level", c.equipped_item_level),
        last_login_at=c.last_login_at if login_ms is None
        else datetime.fromtimestamp(login_ms / 1000, db.now().tzinfo),
        last_modified=c.last_modified if modified is None else datetime.fromisoformat(modified),
        guild_id=guild_id, guild_rank=c.guild_rank if guild_id == c.guild_id else None,
        media=media if media is not None else c.media,
        avatar_url=media.get("avatar") if media is not None else c.avatar_url,
        is_active=True, archived_at=None, enriched_at=db.now(),
    )  # fmt: skip


def refresh_message(c: FakeCharacter) -> JSON:
    return {
        "type": "refresh_character", "characterId": c.id, "blizzardId": c.blizzard_id,
        "region": c.region, "flavor": c.flavor, "realmSlug": c.realm_slug, "name": c.name,
        "lastModified": c.last_modified.isoformat() if c.last_modified else None,
    }  # fmt: skip


class FakeCharacterStore:
    def __init__(self, db: FakeDb) -> None:
        self.db = db

    def list_user_characters(self, user_id: UserId) -> list[JSON]:
        mine = [c for c in self.db.characters.values() if c.user_id == str(user_id)]
        out = []
        for c in sorted(mine, key=lambda c: (c.flavor, c.name, c.id)):
            guild = self.db.guilds.get(c.guild_id) if c.guild_id is not None else None
            realm = self.db.realms.get((c.region, c.flavor, c.realm_id))
            out.append(
                {
                    **c.ref(), "realmSlug": c.realm_slug, "region": c.region,
                    "flavor": c.flavor, "level": c.level, "class": c.class_name,
                    "race": c.race_name, "faction": c.faction,
                    "itemLevel": c.equipped_item_level, "avatarUrl": c.avatar_url,
                    "guild": None if guild is None
                    else {"id": guild.id, "name": guild.name, "realm": guild.realm_slug},
                    "isActive": c.is_active,
                    "enrichedAt": c.enriched_at.isoformat() if c.enriched_at else None,
                    "transferredTo": c.transferred_to, "transferredFrom": c.transferred_from,
                    "connectedRealmId": realm["connected_realm_id"] if realm else None,
                }
            )  # fmt: skip
        return out

    def character_history(
        self, user_id: UserId | None, character_id: int, since: datetime | None, limit: int
    ) -> JSON | None:
        c = self.db.characters.get(character_id)
        if c is None or (user_id is not None and c.user_id != str(user_id)):
            return None
        rows = [
            h
            for h in self.db.history
            if (
                h["characterId"] == c.id
                or (
                    h["characterId"] == c.transferred_to
                    and h["field"] == "transfer"
                    and h["from"] == c.id
                )
            )
            and (since is None or h["observedAt"] >= since)
        ]
        rows.sort(key=lambda h: (h["observedAt"], h["id"]), reverse=True)
        changes = [
            {
                "field": h["field"], "from": h["from"], "to": h["to"],
                "observedAt": h["observedAt"].isoformat(), "source": h["source"],
            }
            for h in rows[: max(min(limit or 100, 500), 1)]
        ]  # fmt: skip
        return {"characterId": c.id, "changes": changes}

    def refresh_account_characters(
        self,
        *,
        user_id: UserId,
        region: str,
        flavor: str,
        characters: list[JSON],
        archive_missing: bool,
        queue: str,
    ) -> int:
        ids = upsert_account_characters(
            self.db, str(user_id), region, flavor, characters, archive_missing
        )
        for i in ids:
            self.db.send(queue, refresh_message(self.db.characters[i]))
        return len(ids)

    def record_character_refresh(
        self, character_id: int, result: RefreshOutcome, data: JSON | None
    ) -> None:
        if result == "modified":
            apply_character_profile(self.db, character_id, data or {}, "refresh")
        elif result == "archived":
            if (c := self.db.characters.get(character_id)) is not None:
                self.db.update_character(c, "refresh", is_active=False, archived_at=self.db.now())
        elif result != "not_modified":
            raise ValueError(f"unknown refresh result {result}")
        if (c := self.db.characters.get(character_id)) is not None:
            c.refreshed_at = self.db.now()

    def apply_guild_roster(
        self, guild_id: int, members: list[JSON], last_modified: str | None, member_count: int
    ) -> RosterApplied | None:
        g = self.db.guilds.get(guild_id)
        if g is None:
            return None
        ids = []
        for m in members:
            c = self.db.find_character(
                g.region, g.flavor, int(m["realm_id"]), int(m["blizzard_id"])
            )
            if c is None:
                c = self.db.insert_character(
                    user_id=None, region=g.region, flavor=g.flavor, realm_id=m["realm_id"],
                    realm_slug=m["realm_slug"], blizzard_id=m["blizzard_id"], name=m["name"],
                    level=m.get("level"), class_id=m.get("class_id"), race_id=m.get("race_id"),
                    faction=m.get("faction"), guild_id=g.id, guild_rank=m.get("rank"),
                )  # fmt: skip
            else:
                self.db.update_character(
                    c, "roster",
                    name=m["name"], realm_slug=m["realm_slug"],
                    level=m.get("level") or c.level, class_id=m.get("class_id") or c.class_id,
                    race_id=m.get("race_id") or c.race_id, faction=m.get("faction") or c.faction,
                    guild_id=g.id, guild_rank=m.get("rank"),
                )  # fmt: skip
            ids.append(c.id)
        for cid in ids:
            self.db.characters[cid].last_seen_in_roster_at = self.db.now()
        left = 0
        for c in list(self.db.characters.values()):
            if c.guild_id == g.id and c.id not in ids:
                self.db.update_character(c, "roster", guild_id=None, guild_rank=None)
                left += 1
        g.roster_synced_at = self.db.now()
        g.roster_last_modified = datetime.fromisoformat(last_modified) if last_modified else None
        g.member_count = member_count
        return RosterApplied(len(ids), left)

    def touch_guild_roster(self, guild_id: int) -> None:
        if (g := self.db.guilds.get(guild_id)) is not None:
            g.roster_synced_at = self.db.now()
            for c in self.db.characters.values():  # a roster that answered 304 saw them all
                if c.guild_id == guild_id:
                    c.last_seen_in_roster_at = self.db.now()

    def prune_characters(self, after_days: int, batch_size: int, max_batches: int) -> JSON:
        """As `prune_characters`: no user, unseen in a roster (or created, never seen) before
        the cutoff, the stalest first, in batches; then memberless guilds."""
        now = self.db.now()
        cutoff = now - timedelta(days=after_days)

        def seen(c: FakeCharacter) -> datetime:
            return c.last_seen_in_roster_at or c.created_at or now

        due = sorted(
            (c for c in self.db.characters.values() if c.user_id is None and seen(c) < cutoff),
            key=lambda c: (seen(c), c.id),
        )
        gone = {c.id for c in due[: batch_size * max_batches]}
        snapshots = [s for s in self.db.snapshots if s.character_id in gone]
        history = [h for h in self.db.history if h["characterId"] in gone]
        self.db.snapshots = [s for s in self.db.snapshots if s.character_id not in gone]
        self.db.history = [h for h in self.db.history if h["characterId"] not in gone]
        for cid in gone:
            del self.db.characters[cid]
        members = {c.guild_id for c in self.db.characters.values()}
        empty = [
            g.id for g in self.db.guilds.values()
            if g.id not in members and (g.roster_synced_at or now) < now - timedelta(days=1)
        ][:batch_size]  # fmt: skip
        for gid in empty:
            del self.db.guilds[gid]
        rows = len(gone) + len(snapshots) + len(history) + len(empty)
        return {
            "at": now.isoformat(), "afterDays": after_days, "characters": len(gone),
            "snapshots": len(snapshots), "history": len(history), "guilds": len(empty),
            "rowsRemoved": rows, "batches": -(-len(gone) // batch_size),
            "more": len(due) > len(gone),
        }  # fmt: skip
