// This month's usage: totals, budget, and a chart of cost by day.
import type { AideClient } from "@aide/client";
import { useEffect, useState } from "react";

interface Day {
  day: string;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
}
interface Report {
  totals: { cost_usd: number; input_tokens: number; output_tokens: number; calls?: number };
  by_day: Day[];
  budget: { budget_usd: number | null; spent_usd: number; state: string; resets_at: string };
}

const usd = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const DAYS = 14;
const isoDay = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

export function Usage({ aide }: { aide: AideClient }) {
  const [report, setReport] = useState<Report | null>(null);
  useEffect(() => {
    aide.usage.get({ from: isoDay(DAYS - 1) }).then((r) => setReport(r as Report));
  }, [aide]);
  if (!report) return <p className="loading">Loading…</p>;
  return (
    <div className="page">
      <h2>Usage, last {DAYS} days</h2>
      <div className="cards">
        <div className="card"><small>Cost</small><strong data-testid="usage-cost">{usd(report.totals.cost_usd)}</strong></div>
        <div className="card"><small>Tokens in / out</small><strong>{report.totals.input_tokens} / {report.totals.output_tokens}</strong></div>
        <div className="card">
          <small>Budget this month</small>
          <strong>{report.budget.budget_usd === null ? "none" : `${usd(report.budget.spent_usd)} of ${usd(report.budget.budget_usd)}`}</strong>
        </div>
      </div>
      <h3>Cost by day</h3>
      <CostChart days={report.by_day} />
    </div>
  );
}

/** A bar per UTC day (the API's days), oldest first; plain SVG. */
function CostChart({ days }: { days: Day[] }) {
  const byDay = new Map(days.map((d) => [d.day, d.cost_usd]));
  const dates = Array.from({ length: DAYS }, (_, i) => isoDay(DAYS - 1 - i));
  const max = Math.max(...dates.map((d) => byDay.get(d) ?? 0), 1e-9);
  const width = 640, height = 200, gap = 8;
  const bar = (width - gap * (dates.length - 1)) / dates.length;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label="Cost by day" data-testid="cost-chart">
      {dates.map((d, i) => {
        const cost = byDay.get(d) ?? 0;
        const h = cost > 0 ? Math.max(2, (cost / max) * height) : 0;
        const x = i * (bar + gap);
        return (
          <g key={d}>
            <rect x={x} y={height - h} width={bar} height={h} data-testid={cost > 0 ? "cost-bar" : undefined}>
              <title>{d}: {usd(cost)}</title>
            </rect>
            <text x={x + bar / 2} y={height + 16} textAnchor="middle">{d.slice(5)}</text>
          </g>
        );
      })}
    </svg>
  );
}
