import { describe, expect, it } from "vitest";

import { chartData, scale, stepPath } from "../src/chart";
import type { HistoryChange } from "../src/model";

const DAY = 86_400_000;
const T0 = Date.parse("2026-11-01T00:00:00Z");
const at = (days: number) => new Date(T0 + days * DAY).toISOString();
const change = (
  field: HistoryChange["field"],
  from: unknown,
  to: unknown,
  days: number,
): HistoryChange => ({ field, from, to, observedAt: at(days), source: "refresh" }) as HistoryChange;

// newest first, as the API answers
const HISTORY = [
  change("guild", "Old Guild", "New Guild", 9),
  change("itemLevel", 600, 612, 8),
  change("level", 80, 81, 5),
  change("level", 79, 80, 2),
];

describe("the chart's data", () => {
  it("maps level and item level changes onto step lines from the first change to now", () => {
    const now = T0 + 10 * DAY;
    const data = chartData(HISTORY, { level: 81, itemLevel: 612 }, now)!;
    expect(data.end).toBe(now);
    expect(data.start).toBeLessThan(T0 + 2 * DAY);
    const [level, itemLevel] = data.series;
    expect(level).toMatchObject({ field: "level", changes: 2, min: 79, max: 81 });
    expect(level!.points).toEqual([
      { at: data.start, value: 79 },
      { at: T0 + 2 * DAY, value: 80 },
      { at: T0 + 5 * DAY, value: 81 },
    ]);
    expect(itemLevel!.points.map((p) => p.value)).toEqual([600, 612]);
    // the table holds the same changes, oldest first; other fields are not charted
    expect(data.rows.map((r) => [r.field, r.from, r.to])).toEqual([
      ["level", 79, 80],
      ["level", 80, 81],
      ["itemLevel", 600, 612],
    ]);
  });

  it("draws a flat line for a field that never changed, and the current value when newer", () => {
    const data = chartData(
      [change("level", 70, 71, 1)],
      { level: 72, itemLevel: 500 },
      T0 + 3 * DAY,
    )!;
    const [level, itemLevel] = data.series;
    expect(level!.points.map((p) => p.value)).toEqual([70, 71, 72]);
    expect(itemLevel).toMatchObject({ changes: 0, points: [{ at: data.start, value: 500 }] });
  });

  it("is empty without a level or item level change", () => {
    expect(chartData([], { level: 80 })).toBeNull();
    expect(
      chartData([change("guild", null, "G", 1), change("level", 1, null, 2)], { level: 80 }),
    ).toBeNull();
  });

  it("scales and draws a step path", () => {
    const x = scale([0, 10], [0, 100]);
    const y = scale([0, 1], [50, 0]);
    expect(x(5)).toBe(50);
    expect(scale([3, 3], [0, 10])(3)).toBe(5);
    const d = stepPath(
      [
        { at: 0, value: 0 },
        { at: 5, value: 1 },
      ],
      10,
      x,
      y,
    );
    expect(d).toBe("M0 50 H50 V0 H100");
  });
});
