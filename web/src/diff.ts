// What changed between two snapshots, computed in the client from the snapshot API: per
// equipment slot (item, item level, enchantments, gems) and for talents (spec, loadout code,
// talents added, removed or re-ranked).

import type { EquippedItem, Talent, TalentSnapshot } from "./model";

/** Blizzard's slot types in the order the game's character sheet shows them. */
export const SLOT_ORDER = [
  "HEAD",
  "NECK",
  "SHOULDER",
  "BACK",
  "CHEST",
  "SHIRT",
  "TABARD",
  "WRIST",
  "HANDS",
  "WAIST",
  "LEGS",
  "FEET",
  "FINGER_1",
  "FINGER_2",
  "TRINKET_1",
  "TRINKET_2",
  "MAIN_HAND",
  "OFF_HAND",
  "RANGED",
] as const;

const SLOT_NAMES: Record<string, string> = {
  HEAD: "Head",
  NECK: "Neck",
  SHOULDER: "Shoulders",
  BACK: "Back",
  CHEST: "Chest",
  SHIRT: "Shirt",
  TABARD: "Tabard",
  WRIST: "Wrists",
  HANDS: "Hands",
  WAIST: "Waist",
  LEGS: "Legs",
  FEET: "Feet",
  FINGER_1: "Ring 1",
  FINGER_2: "Ring 2",
  TRINKET_1: "Trinket 1",
  TRINKET_2: "Trinket 2",
  MAIN_HAND: "Main hand",
  OFF_HAND: "Off hand",
  RANGED: "Ranged",
};

/** "FINGER_1" → "Ring 1"; an unknown slot type in words. */
export function slotName(slot: string): string {
  return SLOT_NAMES[slot] ?? slot.charAt(0) + slot.slice(1).toLowerCase().replace(/_/g, " ");
}

function slotRank(slot: string): number {
  const at = (SLOT_ORDER as readonly string[]).indexOf(slot);
  return at === -1 ? SLOT_ORDER.length : at;
}

/** Items in character-sheet order (unknown slots last, by name). */
export function sortBySlot<T extends { slot: string }>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) => slotRank(a.slot) - slotRank(b.slot) || a.slot.localeCompare(b.slot),
  );
}

export interface ListChange {
  added: string[];
  removed: string[];
}

export interface SlotChange {
  slot: string;
  status: "added" | "removed" | "changed";
  before: EquippedItem | null;
  after: EquippedItem | null;
  /** another item in the slot */
  item: boolean;
  itemLevel: { from: number | null; to: number | null } | null;
  enchantments: ListChange | null;
  gems: ListChange | null;
}

function listChange(before: string[], after: string[]): ListChange | null {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  return added.length || removed.length ? { added, removed } : null;
}

const enchantLabels = (item: EquippedItem | null): string[] =>
  (item?.enchantments ?? []).map((e) => e.description ?? `Enchantment ${e.id ?? "?"}`);
const gemLabels = (item: EquippedItem | null): string[] =>
  (item?.gems ?? []).map((g) => g.name ?? `Gem ${g.itemId}`);

/** The slots that differ between two equipment snapshots, in character-sheet order. */
export function diffEquipment(
  before: readonly EquippedItem[],
  after: readonly EquippedItem[],
): SlotChange[] {
  const old = new Map(before.map((i) => [i.slot, i]));
  const now = new Map(after.map((i) => [i.slot, i]));
  const slots = sortBySlot([...new Set([...old.keys(), ...now.keys()])].map((slot) => ({ slot })));
  const changes: SlotChange[] = [];
  for (const { slot } of slots) {
    const a = old.get(slot) ?? null;
    const b = now.get(slot) ?? null;
    const item = (a?.itemId ?? null) !== (b?.itemId ?? null);
    const levelFrom = a?.itemLevel ?? null;
    const levelTo = b?.itemLevel ?? null;
    const itemLevel = levelFrom !== levelTo ? { from: levelFrom, to: levelTo } : null;
    const enchantments = listChange(enchantLabels(a), enchantLabels(b));
    const gems = listChange(gemLabels(a), gemLabels(b));
    if (!item && !itemLevel && !enchantments && !gems) continue;
    const status = a === null ? "added" : b === null ? "removed" : "changed";
    changes.push({ slot, status, before: a, after: b, item, itemLevel, enchantments, gems });
  }
  return changes;
}

export interface TalentChange {
  spec: { from: string | null; to: string | null } | null;
  loadoutCode: { from: string | null; to: string | null } | null;
  added: Talent[];
  removed: Talent[];
  reranked: { talent: Talent; from: number | null; to: number | null }[];
}

const talentKey = (t: Talent): string => `${t.tree}:${t.id}`;

/** What changed between two talent snapshots. */
export function diffTalents(before: TalentSnapshot, after: TalentSnapshot): TalentChange {
  const old = new Map(before.talents.map((t) => [talentKey(t), t]));
  const now = new Map(after.talents.map((t) => [talentKey(t), t]));
  const reranked: TalentChange["reranked"] = [];
  for (const [key, t] of now) {
    const was = old.get(key);
    if (was && (was.rank ?? null) !== (t.rank ?? null)) {
      reranked.push({ talent: t, from: was.rank ?? null, to: t.rank ?? null });
    }
  }
  return {
    spec: before.spec !== after.spec ? { from: before.spec, to: after.spec } : null,
    loadoutCode:
      before.loadoutCode !== after.loadoutCode
        ? { from: before.loadoutCode, to: after.loadoutCode }
        : null,
    added: after.talents.filter((t) => !old.has(talentKey(t))),
    removed: before.talents.filter((t) => !now.has(talentKey(t))),
    reranked,
  };
}

export function talentsChanged(change: TalentChange): boolean {
  return Boolean(
    change.spec ||
    change.loadoutCode ||
    change.added.length ||
    change.removed.length ||
    change.reranked.length,
  );
}
