// The character's timeline: level and item level over time, from its history (changes, newest
// first) and its current values. Pure data mapping, drawn by pages/HistoryChart.tsx.

import type { HistoryChange } from "./model";

export type ChartField = "level" | "itemLevel";
export const CHART_FIELDS: readonly ChartField[] = ["level", "itemLevel"];
export const FIELD_LABELS: Record<ChartField, string> = { level: "Level", itemLevel: "Item level" };

const DAY_MS = 86_400_000;

export interface Point {
  at: number; // epoch ms
  value: number;
}

export interface Series {
  field: ChartField;
  label: string;
  /** A step line: each point holds until the next, the last until the chart's end. */
  points: Point[];
  /** How many recorded changes the line draws. */
  changes: number;
  min: number;
  max: number;
}

export interface ChartRow {
  at: number;
  field: ChartField;
  from: number | null;
  to: number;
}

export interface ChartData {
  start: number;
  end: number;
  series: Series[];
  /** The changes as a table (oldest first): what a screen reader reads. */
  rows: ChartRow[];
}

const asNumber = (value: unknown): number | null =>
  typeof value === "number" && Number.isFinite(value) ? value : null;

/** The chart of a character's level and item level; null when the history holds no change of
 * either (nothing to draw over time). */
export function chartData(
  changes: readonly HistoryChange[],
  current: Partial<Record<ChartField, number | null>>,
  now: number = Date.now(),
): ChartData | null {
  const rows: ChartRow[] = [];
  for (const change of changes) {
    if (change.field !== "level" && change.field !== "itemLevel") continue;
    const to = asNumber(change.to);
    const at = Date.parse(change.observedAt);
    if (to === null || Number.isNaN(at)) continue;
    rows.push({ at, field: change.field, from: asNumber(change.from), to });
  }
  if (rows.length === 0) return null;
  rows.sort((a, b) => a.at - b.at);
  const first = rows[0]!.at;
  const end = Math.max(now, rows[rows.length - 1]!.at);
  // some room before the first change, where the value it changed from is drawn
  const start = first - Math.max(DAY_MS, (end - first) * 0.08);

  const series: Series[] = [];
  for (const field of CHART_FIELDS) {
    const own = rows.filter((r) => r.field === field);
    const points: Point[] = [];
    if (own.length > 0) {
      points.push({ at: start, value: own[0]!.from ?? own[0]!.to });
      for (const r of own) points.push({ at: r.at, value: r.to });
      const latest = asNumber(current[field]);
      if (latest !== null && latest !== own[own.length - 1]!.to) {
        points.push({ at: end, value: latest });
      }
    } else {
      const latest = asNumber(current[field]);
      if (latest !== null) points.push({ at: start, value: latest });
    }
    if (points.length === 0) continue;
    const values = points.map((p) => p.value);
    series.push({
      field,
      label: FIELD_LABELS[field],
      points,
      changes: own.length,
      min: Math.min(...values),
      max: Math.max(...values),
    });
  }
  return { start, end, series, rows };
}

/** A linear scale from a domain onto a range (a flat domain maps to the range's middle). */
export function scale(
  [d0, d1]: readonly [number, number],
  [r0, r1]: readonly [number, number],
): (value: number) => number {
  if (d1 === d0) return () => (r0 + r1) / 2;
  return (value) => r0 + ((value - d0) / (d1 - d0)) * (r1 - r0);
}

/** The SVG path of a step line ending at `end`. */
export function stepPath(
  points: readonly Point[],
  end: number,
  x: (at: number) => number,
  y: (value: number) => number,
): string {
  if (points.length === 0) return "";
  const r = (n: number) => Math.round(n * 10) / 10;
  const [head, ...rest] = points;
  let d = `M${r(x(head!.at))} ${r(y(head!.value))}`;
  for (const p of rest) d += ` H${r(x(p.at))} V${r(y(p.value))}`;
  return `${d} H${r(x(end))}`;
}
