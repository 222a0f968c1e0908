// The pattern observer: what a user's history says about when they get things done. It counts;
// no model is asked to do arithmetic. Cells of (local weekday, hour) with enough scheduled tasks
// and a high miss rate become `missed_slot` patterns, which the scheduler avoids; high completion
// rates become `productive_slot`; per-category completion and the current streak are recorded too.
// With too little history (cold start) nothing is avoided and the goal planner's preferred times
// of day steer alone.
import { addDays, localDate, zonedFromInstant } from "./time.ts";
import type { AvoidSlot, Observation, ObservedPattern } from "./types.ts";

/** A finished (done or missed) scheduled task of the user's. */
export interface HistoryTask {
  scheduledAt: number;
  status: "done" | "missed";
  categories: string[];
}

/** Tunables of the observer, in one place. */
export const OBSERVER = {
  /** Fewer resolved tasks than this: cold start. */
  coldStartBelow: 10,
  /** A cell or category needs this many samples before it says anything. */
  minSamples: 3,
  missedRate: 0.5,
  productiveRate: 0.8,
  /** Samples at which confidence stops growing with the sample size. */
  fullConfidenceAt: 10,
};

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const confidence = (rate: number, n: number) =>
  Math.round(rate * Math.min(1, n / OBSERVER.fullConfidenceAt) * 1000) / 1000;

/**
 * Consecutive local days, ending today (or yesterday, when today has nothing finished yet), on
 * which every scheduled task that was resolved was done. `days` maps local dates to counts.
 */
export function streakDays(
  days: Map<string, { done: number; missed: number }>,
  today: string,
): number {
  const previousDay = (date: string) => addDays(date, -1);
  // Nothing resolved yet today: the streak so far ends yesterday.
  let day = days.has(today) ? today : previousDay(today);
  let streak = 0;
  for (;;) {
    const d = days.get(day);
    if (!d || d.missed > 0 || d.done === 0) break;
    streak++;
    day = previousDay(day);
  }
  return streak;
}

export function observe(
  history: HistoryTask[],
  timeZone: string,
  now: number,
): Observation {
  if (history.length < OBSERVER.coldStartBelow) return { patterns: [], avoid: [], coldStart: true };

  const cells = new Map<string, { weekday: number; hour: number; done: number; missed: number }>();
  const categories = new Map<string, { done: number; missed: number }>();
  const days = new Map<string, { done: number; missed: number }>();
  for (const t of history) {
    const z = zonedFromInstant(t.scheduledAt, timeZone);
    const key = `${WEEKDAYS[z.dayOfWeek - 1]}-${String(z.hour).padStart(2, "0")}`;
    const cell = cells.get(key) ?? { weekday: z.dayOfWeek, hour: z.hour, done: 0, missed: 0 };
    cell[t.status]++;
    cells.set(key, cell);
    for (const c of t.categories.length ? t.categories : ["uncategorized"]) {
      const cat = categories.get(c) ?? { done: 0, missed: 0 };
      cat[t.status]++;
      categories.set(c, cat);
    }
    const day = localDate(t.scheduledAt, timeZone);
    const d = days.get(day) ?? { done: 0, missed: 0 };
    d[t.status]++;
    days.set(day, d);
  }

  const patterns: ObservedPattern[] = [];
  const avoid: AvoidSlot[] = [];
  for (const [key, c] of [...cells].sort(([a], [b]) => a.localeCompare(b))) {
    const n = c.done + c.missed;
    if (n < OBSERVER.minSamples) continue;
    const missRate = c.missed / n;
    const data = { weekday: c.weekday, hour: c.hour, done: c.done, missed: c.missed };
    if (missRate >= OBSERVER.missedRate) {
      avoid.push({ weekday: c.weekday, hour: c.hour });
      patterns.push({
        kind: "missed_slot",
        key,
        description: `Tasks on ${WEEKDAYS[c.weekday - 1]} at ${c.hour}:00 are missed ${Math.round(missRate * 100)}% of the time`,
        data,
        confidence: confidence(missRate, n),
        sample_size: n,
      });
    } else if (1 - missRate >= OBSERVER.productiveRate) {
      patterns.push({
        kind: "productive_slot",
        key,
        description: `Tasks on ${WEEKDAYS[c.weekday - 1]} at ${c.hour}:00 get done ${Math.round((1 - missRate) * 100)}% of the time`,
        data,
        confidence: confidence(1 - missRate, n),
        sample_size: n,
      });
    }
  }
  for (const [category, c] of [...categories].sort(([a], [b]) => a.localeCompare(b))) {
    const n = c.done + c.missed;
    if (n < OBSERVER.minSamples) continue;
    const rate = c.done / n;
    patterns.push({
      kind: "category_performance",
      key: category,
      description: `${Math.round(rate * 100)}% of ${category} tasks get done`,
      data: { category, done: c.done, missed: c.missed, completion_rate: rate },
      confidence: confidence(Math.max(rate, 1 - rate), n),
      sample_size: n,
    });
  }
  const streak = streakDays(days, localDate(now, timeZone));
  patterns.push({
    kind: "streak",
    key: "current",
    description: streak ? `${streak} day${streak === 1 ? "" : "s"} in a row with everything done` : "No current streak",
    data: { days: streak },
    confidence: 1,
    sample_size: history.length,
  });
  return { patterns, avoid, coldStart: false };
}
