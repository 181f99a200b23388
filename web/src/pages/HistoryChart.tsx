// Level and item level over time as an SVG (role img, a title and a description) with the
// same data as a table behind it for screen readers (shown on demand).

import { useId, useState } from "react";

import { FIELD_LABELS, scale, stepPath, type ChartData } from "../chart";
import { formatDate } from "./common";

const WIDTH = 640;
const PANEL = 110;
const GAP = 34;
const LEFT = 48;
const RIGHT = 16;
const TOP = 22;

export function HistoryChart({ data }: { data: ChartData }) {
  const id = useId();
  const [showTable, setShowTable] = useState(false);
  const height = TOP + data.series.length * (PANEL + GAP);
  const x = scale([data.start, data.end], [LEFT, WIDTH - RIGHT]);
  const summary = data.series
    .map((s) => {
      const first = s.points[0]!.value;
      const last = s.points[s.points.length - 1]!.value;
      return `${s.label} from ${first} to ${last} (${s.changes} change${s.changes === 1 ? "" : "s"})`;
    })
    .join("; ");
  return (
    <figure className="chart" data-testid="history-chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        className="chart__svg"
      >
        <title id={`${id}-title`}>Level and item level over time</title>
        <desc id={`${id}-desc`}>
          {`From ${formatDate(data.start)} to ${formatDate(data.end)}: ${summary}.`}
        </desc>
        {data.series.map((s, i) => {
          const top = TOP + i * (PANEL + GAP);
          const pad = Math.max(1, (s.max - s.min) * 0.15);
          const y = scale([s.min - pad, s.max + pad], [top + PANEL, top]);
          return (
            <g key={s.field} className={`chart__series chart__series--${s.field}`}>
              <text x={LEFT} y={top - 8} className="chart__label">
                {s.label}
              </text>
              <line
                x1={LEFT}
                x2={WIDTH - RIGHT}
                y1={top + PANEL}
                y2={top + PANEL}
                className="chart__axis"
              />
              <text x={LEFT - 6} y={y(s.max)} className="chart__tick" textAnchor="end">
                {s.max}
              </text>
              {s.min !== s.max && (
                <text x={LEFT - 6} y={y(s.min)} className="chart__tick" textAnchor="end">
                  {s.min}
                </text>
              )}
              <path
                d={stepPath(s.points, data.end, x, y)}
                className="chart__line"
                data-testid={`chart-line-${s.field}`}
                data-changes={s.changes}
              />
              {s.points.slice(1).map((p) => (
                <circle key={p.at} cx={x(p.at)} cy={y(p.value)} r={3.5} className="chart__point" />
              ))}
            </g>
          );
        })}
        <text x={LEFT} y={height - 6} className="chart__tick">
          {formatDate(data.start)}
        </text>
        <text x={WIDTH - RIGHT} y={height - 6} className="chart__tick" textAnchor="end">
          {formatDate(data.end)}
        </text>
      </svg>
      <button
        type="button"
        className="link-button"
        aria-expanded={showTable}
        aria-controls={`${id}-table`}
        data-testid="chart-table-toggle"
        onClick={() => setShowTable((v) => !v)}
      >
        {showTable ? "Hide the data table" : "Show the data table"}
      </button>
      <div
        id={`${id}-table`}
        className={showTable ? "table-wrap" : "visually-hidden"}
        data-testid="history-chart-data"
      >
        <table className="data-table" data-testid="history-chart-table">
          <caption>Level and item level changes, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">What</th>
              <th scope="col">From</th>
              <th scope="col">To</th>
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r) => (
              <tr key={`${r.at}-${r.field}-${r.to}`} data-testid="chart-row">
                <td>{formatDate(r.at, true)}</td>
                <td>{FIELD_LABELS[r.field]}</td>
                <td>{r.from ?? "—"}</td>
                <td>{r.to}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}
