// The shapes of the character page's endpoints (DESIGN.md section 11), camelCase as sent.

import type { GameVersion } from "./types";

export type HistoryField =
  | "name"
  | "realm"
  | "level"
  | "itemLevel"
  | "guild"
  | "rank"
  | "faction"
  | "race"
  | "active"
  | "transfer";

/** One change of GET /api/v1/characters/{id}/history (`from`/`to` plain values; for a
 * transfer, the other row's id). */
export interface HistoryChange {
  field: HistoryField;
  from: string | number | boolean | null;
  to: string | number | boolean | null;
  observedAt: string;
  source: "sync" | "refresh" | "roster";
}

export interface CharacterHistory {
  characterId: number;
  changes: HistoryChange[];
}

export type SnapshotKind = "equipment" | "talents";

/** A row of GET /api/v1/characters/{id}/snapshots?kind=... */
export interface SnapshotSummary {
  id: number;
  takenAt: string;
  itemLevel?: number;
  spec?: string;
}

export interface SnapshotList {
  characterId: number;
  kind: SnapshotKind;
  snapshots: SnapshotSummary[];
}

export interface Enchantment {
  id: number | null;
  description: string | null;
}

export interface Gem {
  itemId: number;
  name: string | null;
}

export interface EquippedItem {
  slot: string;
  itemId: number;
  name: string | null;
  quality: string | null;
  itemLevel: number | null;
  enchantments: Enchantment[];
  gems: Gem[];
  set: string | null;
}

export interface Talent {
  tree: string;
  id: number;
  name: string | null;
  rank: number | null;
}

export interface EquipmentSnapshot {
  id: number;
  kind: "equipment";
  takenAt: string;
  items: EquippedItem[];
}

export interface TalentSnapshot {
  id: number;
  kind: "talents";
  takenAt: string;
  spec: string | null;
  loadoutCode: string | null;
  talents: Talent[];
}

export type Snapshot = EquipmentSnapshot | TalentSnapshot;

export interface GuildMember {
  id: number;
  name: string;
  realm: string;
  level: number | null;
  class: string | null;
  rank: number | null;
  lastLoginAt?: string | null;
  lastSeenInRosterAt?: string | null;
  mine?: boolean;
}

/** GET /api/v1/guilds/{id} */
export interface Guild {
  id: number;
  name: string;
  realm: string;
  connectedRealmId: number | null;
  members: GuildMember[];
}

export type AutoSync = "off" | "on_login" | "daily";

/** GET/PUT /api/v1/me/sync-preferences */
export interface SyncPreferences {
  autoSync: AutoSync;
  gameVersions: GameVersion[];
  nextSyncAt?: string | null;
  reason?: "auto_sync_off" | "on_login" | "login_required" | "login_expires_first" | null;
}
