// Answers of the character page's endpoints, as the API sends them.

import type { EquippedItem, Guild, TalentSnapshot } from "../src/model";
import type { Character } from "../src/types";

export const CHARACTER: Character = {
  id: 11,
  name: "Alpha",
  realm: "Area 52",
  realmSlug: "area-52",
  region: "us",
  flavor: "",
  level: 81,
  class: "Mage",
  race: "Human",
  faction: "ALLIANCE",
  itemLevel: 610,
  avatarUrl: null,
  guild: { id: 5, name: "Mythical Warriors", realm: "area-52", rank: 0 },
  isActive: true,
  enrichedAt: "2026-12-01T10:00:00Z",
  transferredTo: null,
  transferredFrom: 9,
};

export function item(
  slot: string,
  itemId: number,
  itemLevel: number,
  extra: Partial<EquippedItem> = {},
): EquippedItem {
  return {
    slot,
    itemId,
    name: `Item ${itemId}`,
    quality: "EPIC",
    itemLevel,
    enchantments: [],
    gems: [],
    set: null,
    ...extra,
  };
}

export const OLD_ITEMS = [
  item("HEAD", 100, 600),
  item("CHEST", 200, 600, { enchantments: [{ id: 1, description: "+10 Stamina" }] }),
  item("FINGER_1", 300, 600, { gems: [{ itemId: 7, name: "Ruby" }] }),
  item("TABARD", 400, 1),
];
export const NEW_ITEMS = [
  item("HEAD", 101, 619, { name: "Crown of Gains" }), // another item
  item("CHEST", 200, 600, { enchantments: [{ id: 2, description: "+20 Stamina" }] }), // enchant
  item("FINGER_1", 300, 600, { gems: [{ itemId: 8, name: "Sapphire" }] }), // gem
  item("FEET", 500, 610), // a slot filled
]; // TABARD emptied

export function talents(spec: string, code: string, ids: number[]): TalentSnapshot {
  return {
    id: ids.length,
    kind: "talents",
    takenAt: "2026-12-01T10:00:00Z",
    spec,
    loadoutCode: code,
    talents: ids.map((id) => ({ tree: "class", id, name: `Talent ${id}`, rank: 1 })),
  };
}

export const GUILD: Guild = {
  id: 5,
  name: "Mythical Warriors",
  realm: "Area 52",
  connectedRealmId: 1,
  members: [
    {
      id: 11,
      name: "Alpha",
      realm: "Area 52",
      level: 81,
      class: "Mage",
      rank: 0,
      mine: true,
      lastLoginAt: "2026-12-03T00:00:00Z",
    },
    {
      id: 20,
      name: "zed",
      realm: "Korgath",
      level: 70,
      class: "Warrior",
      rank: 3,
      mine: false,
      lastSeenInRosterAt: "2026-11-01T00:00:00Z",
    },
    {
      id: 21,
      name: "Bea",
      realm: "Area 52",
      level: null,
      class: null,
      rank: 1,
      mine: false,
      lastLoginAt: "2026-12-05T00:00:00Z",
    },
  ],
};
