// Analytics (seed 001 4.5). Weekly stats, misses by category and the activity heatmap come from
// the materialized views (refreshed by pg_cron, read through invoker views that return only the
// caller's rows); the streak and today's numbers are counted live from tasks, in the user's zone.
import { z } from "@hono/zod-openapi";
import type { Tx } from "../db.ts";
import { streakDays } from "./observer.ts";
import { addDays, localDate } from "./time.ts";

const Counts = { planned: z.int(), done: z.int(), missed: z.int() };

export const HeatmapCell = z.object({ weekday: z.int(), hour: z.int(), ...Counts });
export const WeeklyRow = z.object({ week_start: z.string(), ...Counts, completion_rate: z.number().nullable() })
  .openapi("WeeklyStats");
export const CategoryRow = z.object({ category: z.string(), ...Counts, miss_rate: z.number().nullable() })
  .openapi("MissedByCategory");
export const GoalProgress = z.object({
  goal_id: z.uuid(),
  title: z.string(),
  status: z.string(),
  ...Counts,
  open: z.int(),
  completion_rate: z.number().nullable(),
  micro_goals_done: z.int(),
  micro_goals_total: z.int(),
}).openapi("GoalProgress");
export const Overview = z.object({
  time_zone: z.string(),
  streak_days: z.int(),
  today: z.object({ date: z.string(), ...Counts, open: z.int() }),
  heatmap: z.array(HeatmapCell),
}).openapi("AnalyticsOverview");

const rate = (part: number, whole: number) => (whole ? Math.round((part / whole) * 1000) / 1000 : null);

export async function overview(tx: Tx, timeZone: string, now = Date.now()): Promise<z.infer<typeof Overview>> {
  const today = localDate(now, timeZone);
  const days = await tx<{ day: string; done: number; missed: number; open: number; planned: number }[]>`
    select to_char(scheduled_at at time zone ${timeZone}, 'YYYY-MM-DD') as day,
           count(*)::int as planned,
           count(*) filter (where status = 'done')::int as done,
           count(*) filter (where status = 'missed')::int as missed,
           count(*) filter (where status in ('open', 'snoozed'))::int as open
    from public.tasks
    where scheduled_at is not null and status <> 'cancelled'
      and scheduled_at >= ${new Date(now - 400 * 86_400_000)} and scheduled_at < ${new Date(now + 2 * 86_400_000)}
    group by 1`;
  const byDay = new Map(days.map((d) => [d.day, { done: d.done, missed: d.missed }]));
  // A day counts once it has something resolved; days still fully open are not part of it.
  const resolved = new Map([...byDay].filter(([day, d]) => day <= today && d.done + d.missed > 0));
  const t = days.find((d) => d.day === today);
  const heatmap = await tx<z.infer<typeof HeatmapCell>[]>`
    select weekday, hour, planned, done, missed from public.planner_activity_heatmap order by weekday, hour`;
  return {
    time_zone: timeZone,
    streak_days: streakDays(resolved, today),
    today: { date: today, planned: t?.planned ?? 0, done: t?.done ?? 0, missed: t?.missed ?? 0, open: t?.open ?? 0 },
    heatmap,
  };
}

export async function weekly(tx: Tx, timeZone: string, weeks: number, now = Date.now()) {
  const since = addDays(localDate(now, timeZone), -7 * weeks);
  const rows = await tx<{ week_start: string; planned: number; done: number; missed: number }[]>`
    select to_char(week_start, 'YYYY-MM-DD') as week_start, planned, done, missed
    from public.planner_weekly_stats where week_start > ${since}::date order by week_start`;
  return rows.map((r) => ({ ...r, completion_rate: rate(r.done, r.done + r.missed) }));
}

export async function missedByCategory(tx: Tx) {
  const rows = await tx<{ category: string; planned: number; done: number; missed: number }[]>`
    select category, planned, done, missed from public.planner_missed_by_category
    order by missed desc, category`;
  return rows.map((r) => ({ ...r, miss_rate: rate(r.missed, r.done + r.missed) }));
}

export async function goalProgress(tx: Tx) {
  const rows = await tx<(Omit<z.infer<typeof GoalProgress>, "completion_rate">)[]>`
    select g.id as goal_id, g.title, g.status,
           count(t.id) filter (where t.status <> 'cancelled')::int as planned,
           count(t.id) filter (where t.status = 'done')::int as done,
           count(t.id) filter (where t.status = 'missed')::int as missed,
           count(t.id) filter (where t.status in ('open', 'snoozed'))::int as open,
           (select count(*) from public.micro_goals m where m.goal_id = g.id and m.status = 'done')::int as micro_goals_done,
           (select count(*) from public.micro_goals m where m.goal_id = g.id)::int as micro_goals_total
    from public.goals g left join public.tasks t on t.goal_id = g.id
    group by g.id order by g.created_at desc limit 200`;
  return rows.map((r) => ({ ...r, completion_rate: rate(r.done, r.done + r.missed) }));
}
