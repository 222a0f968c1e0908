// Patterns: the observer's findings as stored rows (one per kind and key), what the scheduler
// avoids (missed slots the user has not overridden), and the routes' queries.
import { z } from "@hono/zod-openapi";
import { asUser, jsonb, type JwtClaims, type Tx } from "../db.ts";
import { log } from "../http.ts";
import { type HistoryTask, observe } from "./observer.ts";
import type { AvoidSlot, Observation } from "./types.ts";

export const Pattern = z.object({
  id: z.uuid(),
  kind: z.enum(["missed_slot", "productive_slot", "streak", "category_performance"]),
  key: z.string(),
  description: z.string(),
  data: z.record(z.string(), z.unknown()),
  confidence: z.number(),
  sample_size: z.int(),
  status: z.enum(["observed", "confirmed", "overridden"]),
  override: z.unknown().nullable(),
  observed_at: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Pattern");
export type Pattern = z.infer<typeof Pattern>;

/** The days of history the observer looks at. */
export const HISTORY_DAYS = 90;

// deno-lint-ignore no-explicit-any
const toJson = (r: Record<string, any>): Pattern => ({
  ...r,
  confidence: Number(r.confidence),
  observed_at: r.observed_at.toISOString(),
  created_at: r.created_at.toISOString(),
  updated_at: r.updated_at.toISOString(),
} as Pattern);

/** The caller's finished scheduled tasks of the last HISTORY_DAYS days. */
export async function history(tx: Tx, now = Date.now()): Promise<HistoryTask[]> {
  const rows = await tx<{ scheduled_at: Date; status: "done" | "missed"; categories: string[] }[]>`
    select scheduled_at, status, categories from public.tasks
    where status in ('done', 'missed') and scheduled_at is not null
      and scheduled_at >= ${new Date(now - HISTORY_DAYS * 86_400_000)} and scheduled_at <= ${new Date(now)}`;
  return rows.map((r) => ({ scheduledAt: r.scheduled_at.getTime(), status: r.status, categories: r.categories }));
}

/** Observes the caller's history and stores what it found (overridden patterns stay as set). */
export async function observeAndRecord(tx: Tx, timeZone: string): Promise<Observation> {
  const observation = observe(await history(tx), timeZone, Date.now());
  if (observation.patterns.length) {
    await tx`select private.record_patterns(${jsonb(observation.patterns)})`;
  }
  return observation;
}

/** The same, on its own transaction, for after a task was missed (never fails the request). */
export async function recordObservation(claims: JwtClaims) {
  try {
    await asUser(claims, async (tx) => {
      const [p] = await tx`select timezone from public.profiles where id = (select auth.uid())`;
      await observeAndRecord(tx, p?.timezone ?? "UTC");
    });
  } catch (e) {
    log("error", "pattern observation failed", { error: String(e) });
  }
}

/** Missed slots the scheduler avoids: observed or confirmed, not overridden. */
export async function avoidSlots(tx: Tx): Promise<AvoidSlot[]> {
  const rows = await tx<{ data: { weekday: number; hour: number } }[]>`
    select data from public.patterns where kind = 'missed_slot' and status <> 'overridden'`;
  return rows.map((r) => ({ weekday: Number(r.data.weekday), hour: Number(r.data.hour) }));
}

export async function listPatterns(tx: Tx, kind?: Pattern["kind"]) {
  const rows = await tx`select * from public.patterns
                        where ${kind ?? null}::text is null or kind = ${kind ?? null}
                        order by kind, confidence desc, key limit 500`;
  return rows.map(toJson);
}

export async function getPattern(tx: Tx, id: string) {
  const [row] = await tx`select * from public.patterns where id = ${id}`;
  return row ? toJson(row) : null;
}

export async function updatePattern(
  tx: Tx,
  id: string,
  change: { status: "confirmed" | "overridden" | "observed"; override?: unknown },
) {
  const [row] = await tx`update public.patterns set status = ${change.status},
                           override = ${change.status === "overridden" ? jsonb(change.override ?? {}) : null}
                         where id = ${id} returning *`;
  return row ? toJson(row) : null;
}

export async function deletePattern(tx: Tx, id: string) {
  return (await tx`delete from public.patterns where id = ${id} returning id`).length > 0;
}
