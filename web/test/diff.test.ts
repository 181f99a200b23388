import { describe, expect, it } from "vitest";

import { diffEquipment, diffTalents, slotName, sortBySlot, talentsChanged } from "../src/diff";
import { NEW_ITEMS, OLD_ITEMS, item, talents } from "./data";

describe("the equipment diff", () => {
  it("lists the slots that changed, in character-sheet order, with what changed", () => {
    const changes = diffEquipment(OLD_ITEMS, NEW_ITEMS);
    expect(changes.map((c) => [c.slot, c.status])).toEqual([
      ["HEAD", "changed"],
      ["CHEST", "changed"],
      ["TABARD", "removed"],
      ["FEET", "added"],
      ["FINGER_1", "changed"],
    ]);
    const [head, chest, tabard, feet, ring] = changes;
    expect(head).toMatchObject({
      item: true,
      itemLevel: { from: 600, to: 619 },
      enchantments: null,
      gems: null,
    });
    expect(chest).toMatchObject({
      item: false,
      itemLevel: null,
      enchantments: { added: ["+20 Stamina"], removed: ["+10 Stamina"] },
    });
    expect(tabard).toMatchObject({ after: null, itemLevel: { from: 1, to: null } });
    expect(feet).toMatchObject({ before: null, itemLevel: { from: null, to: 610 } });
    expect(ring?.gems).toEqual({ added: ["Sapphire"], removed: ["Ruby"] });
  });

  it("finds nothing between equal snapshots, and an item level change alone", () => {
    expect(diffEquipment(OLD_ITEMS, [...OLD_ITEMS].reverse())).toEqual([]);
    const upgraded = diffEquipment([item("HEAD", 1, 600)], [item("HEAD", 1, 606)]);
    expect(upgraded).toHaveLength(1);
    expect(upgraded[0]).toMatchObject({ item: false, itemLevel: { from: 600, to: 606 } });
  });

  it("names and orders slots", () => {
    expect(slotName("FINGER_2")).toBe("Ring 2");
    expect(slotName("SOME_NEW_SLOT")).toBe("Some new slot");
    expect(
      sortBySlot([{ slot: "ZZZ" }, { slot: "OFF_HAND" }, { slot: "HEAD" }]).map((s) => s.slot),
    ).toEqual(["HEAD", "OFF_HAND", "ZZZ"]);
  });
});

describe("the talent diff", () => {
  it("says the spec, the loadout and the talents added, removed and re-ranked", () => {
    const before = talents("Fire", "AAA", [1, 2, 3]);
    const after = talents("Frost", "BBB", [2, 3, 4]);
    after.talents[0]!.rank = 2;
    const change = diffTalents(before, after);
    expect(change.spec).toEqual({ from: "Fire", to: "Frost" });
    expect(change.loadoutCode).toEqual({ from: "AAA", to: "BBB" });
    expect(change.added.map((t) => t.id)).toEqual([4]);
    expect(change.removed.map((t) => t.id)).toEqual([1]);
    expect(change.reranked).toEqual([{ talent: after.talents[0], from: 1, to: 2 }]);
    expect(talentsChanged(change)).toBe(true);
  });

  it("finds nothing between equal talents", () => {
    const change = diffTalents(talents("Fire", "AAA", [1, 2]), talents("Fire", "AAA", [2, 1]));
    expect(talentsChanged(change)).toBe(false);
  });
});
