// Goals and their pipeline of micro-goals: listing, abandoning (its open tasks and series are
// cancelled), advancing the pipeline when a micro-goal's tasks are done, and saving an approved
// plan (goal, micro-goals, series and tasks in the caller's one transaction).
import { z } from "@hono/zod-openapi";
import type { Tx } from "../db.ts";
import { ApiError } from "../http.ts";
import { ruleProblem } from "./recurrence.ts";
import {
  insertSeries,
  insertTask,
  materializeSeries,
  type TaskRow,
} from "./tasks.ts";
import { localToInstant } from "./time.ts";
import type { PlanContent } from "./types.ts";

export const GOAL_STATUSES = ["active", "completed", "abandoned"] as const;

export const MicroGoal = z.object({
  id: z.uuid(),
  position: z.int(),
  title: z.string(),
  description: z.string().nullable(),
  status: z.enum(["locked", "active", "done"]),
  unlocked_at: z.string().nullable(),
  completed_at: z.string().nullable(),
}).openapi("MicroGoal");

export const Goal = z.object({
  id: z.uuid(),
  title: z.string(),
  description: z.string().nullable(),
  categories: z.array(z.string()),
  status: z.enum(GOAL_STATUSES),
  target_date: z.string().nullable(),
  conversation_id: z.uuid().nullable(),
  plan_id: z.uuid().nullable(),
  completed_at: z.string().nullable(),
  abandoned_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
}).openapi("Goal");
export type Goal = z.infer<typeof Goal>;

export const GoalWithPipeline = Goal.extend({
  micro_goals: z.array(MicroGoal),
  progress: z.object({ total: z.int(), done: z.int(), missed: z.int(), open: z.int() }),
}).openapi("GoalWithPipeline");

const GOAL_COLUMNS = `id, title, description, categories, status, to_char(target_date, 'YYYY-MM-DD') as target_date,
  conversation_id, plan_id, completed_at, abandoned_at, created_at, updated_at`;

// deno-lint-ignore no-explicit-any
const jsonDates = (r: Record<string, any>) =>
  Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));

export async function listGoals(
  tx: Tx,
  f: { status?: Goal["status"]; after?: { t: string; id: string }; limit: number },
) {
  const rows = await tx.unsafe(
    `select ${GOAL_COLUMNS}, created_at::text as created_key from public.goals
     where ($1::text is null or status = $1)
       and ($2::text is null or (created_at, id) < ($2::text::timestamptz, $3::uuid))
     order by created_at desc, id desc limit $4`,
    [f.status ?? null, f.after?.t ?? null, f.after?.id ?? null, f.limit + 1],
  );
  const page = rows.slice(0, f.limit);
  return {
    goals: page.map(({ created_key: _, ...g }) => jsonDates(g)) as Goal[],
    more: rows.length > f.limit,
    lastKey: page.length ? { t: page.at(-1)!.created_key as string, id: page.at(-1)!.id as string } : null,
  };
}

export async function getGoal(tx: Tx, id: string) {
  const [goal] = await tx.unsafe(`select ${GOAL_COLUMNS} from public.goals where id = $1`, [id]);
  if (!goal) return null;
  const micro = await tx`select id, position, title, description, status, unlocked_at, completed_at
                         from public.micro_goals where goal_id = ${id} order by position`;
  const [progress] = await tx`
    select count(*)::int as total,
           count(*) filter (where status = 'done')::int as done,
           count(*) filter (where status = 'missed')::int as missed,
           count(*) filter (where status in ('open', 'snoozed'))::int as open
    from public.tasks where goal_id = ${id} and status <> 'cancelled'`;
  return {
    ...(jsonDates(goal) as Goal),
    micro_goals: micro.map(jsonDates) as z.infer<typeof MicroGoal>[],
    progress: progress as { total: number; done: number; missed: number; open: number },
  };
}

/** Abandons an active goal: its open and snoozed tasks are cancelled, its series end. */
export async function abandonGoal(tx: Tx, id: string) {
  const [goal] = await tx`update public.goals set status = 'abandoned', abandoned_at = now()
                          where id = ${id} and status = 'active' returning id`;
  if (!goal) {
    const [exists] = await tx`select status from public.goals where id = ${id}`;
    if (!exists) return null;
    throw new ApiError(409, "not_active", `The goal is ${exists.status}`);
  }
  const cancelled = await tx`update public.tasks set status = 'cancelled', snoozed_until = null
                             where goal_id = ${id} and status in ('open', 'snoozed') returning id`;
  await tx`update public.task_series set status = 'cancelled' where goal_id = ${id}`;
  return { cancelled_tasks: cancelled.length };
}

/**
 * After a task of a micro-goal is done: when none of that micro-goal's tasks is left to do and
 * its series have no occurrences left, it is done and the next one unlocks; after the last
 * one, the goal is completed. Returns what changed.
 */
export async function advancePipeline(tx: Tx, task: TaskRow) {
  if (!task.micro_goal_id || !task.goal_id) return { micro_goal_done: false, goal_completed: false };
  const [left] = await tx`
    select (select count(*) from public.tasks
            where micro_goal_id = ${task.micro_goal_id} and status in ('open', 'snoozed'))::int
         + (select count(*) from public.task_series
            where micro_goal_id = ${task.micro_goal_id} and status = 'active')::int as n`;
  if (left.n > 0) return { micro_goal_done: false, goal_completed: false };
  const [done] = await tx`update public.micro_goals set status = 'done', completed_at = now()
                          where id = ${task.micro_goal_id} and status <> 'done' returning position`;
  if (!done) return { micro_goal_done: false, goal_completed: false };
  const [next] = await tx`update public.micro_goals set status = 'active', unlocked_at = now()
                          where goal_id = ${task.goal_id} and position = ${done.position + 1}
                            and status = 'locked' returning id`;
  if (next) return { micro_goal_done: true, goal_completed: false };
  const [open] = await tx`select count(*)::int as n from public.micro_goals
                          where goal_id = ${task.goal_id} and status <> 'done'`;
  if (open.n > 0) return { micro_goal_done: true, goal_completed: false };
  await tx`update public.goals set status = 'completed', completed_at = now()
           where id = ${task.goal_id} and status = 'active'`;
  return { micro_goal_done: true, goal_completed: true };
}

/**
 * Saves an approved plan in the caller's transaction: the goal, its micro-goals (the first one
 * active), one task per one-off proposed task and one series per recurring one, whose
 * occurrences are materialized up to the horizon. Tasks the scheduler found no slot for are
 * left out (the plan said so). Returns the goal's id.
 */
export async function savePlan(
  tx: Tx,
  userId: string,
  plan: { id: string; conversation_id: string; goal_id: string | null; content: PlanContent },
  through: number,
): Promise<string> {
  const c = plan.content;
  const goal = plan.goal_id ? await reviseGoal(tx, plan.goal_id, c) : await newGoal(tx, userId, plan);
  const microIds = new Map<number, string>();
  for (const m of c.micro_goals) {
    const position = goal.offset + m.position;
    const first = m.position === 1;
    const [row] = await tx<{ id: string }[]>`
      insert into public.micro_goals (goal_id, user_id, position, title, description, status, unlocked_at)
      values (${goal.id}, ${userId}, ${position}, ${m.title}, ${m.description},
              ${first ? "active" : "locked"}, ${first ? new Date() : null})
      returning id`;
    microIds.set(m.position, row.id);
  }
  for (const t of c.tasks) {
    if (!t.start_local) continue;
    const common = {
      title: t.title,
      details: t.details,
      timeZone: c.time_zone,
      durationMinutes: t.duration_minutes,
      goalId: goal.id,
      microGoalId: microIds.get(t.micro_goal) ?? null,
      categories: c.categories,
    };
    if (t.rrule) {
      const problem = ruleProblem({ rrule: t.rrule, startsLocal: t.start_local, timeZone: c.time_zone });
      if (problem) throw new ApiError(422, "invalid_plan", `${t.title}: ${problem}`);
      const series = await insertSeries(tx, userId, { ...common, rrule: t.rrule, startsLocal: t.start_local });
      await materializeSeries(tx, series, through);
    } else {
      await insertTask(tx, userId, {
        ...common,
        origin: "planner",
        startAt: localToInstant(t.start_local, c.time_zone),
      });
    }
  }
  await tx`update public.plans set status = 'approved', approved_at = now(), goal_id = ${goal.id}
           where id = ${plan.id}`;
  return goal.id;
}

async function newGoal(
  tx: Tx,
  userId: string,
  plan: { id: string; conversation_id: string; content: PlanContent },
) {
  const c = plan.content;
  const [goal] = await tx<{ id: string }[]>`
    insert into public.goals (user_id, title, description, categories, target_date, conversation_id, plan_id)
    values (${userId}, ${c.goal.title}, ${c.goal.description}, ${c.categories}, ${c.goal.target_date},
            ${plan.conversation_id}, ${plan.id})
    returning id`;
  return { id: goal.id, offset: 0 };
}

/**
 * A modify plan replaces the goal's future: its fields are the plan's, its open tasks are
 * cancelled and its series end, its micro-goals not done yet give way to the plan's, which
 * follow the done ones. What was done stays.
 */
async function reviseGoal(tx: Tx, goalId: string, c: PlanContent) {
  const [goal] = await tx`update public.goals set title = ${c.goal.title}, description = ${c.goal.description},
                            categories = ${c.categories}, target_date = ${c.goal.target_date}
                          where id = ${goalId} and status = 'active' returning id`;
  if (!goal) throw new ApiError(409, "not_active", "The goal is no longer active");
  await tx`update public.tasks set status = 'cancelled', snoozed_until = null
           where goal_id = ${goalId} and status in ('open', 'snoozed')`;
  await tx`update public.task_series set status = 'cancelled' where goal_id = ${goalId} and status = 'active'`;
  await tx`delete from public.micro_goals where goal_id = ${goalId} and status <> 'done'`;
  const [{ offset }] = await tx`select coalesce(max(position), 0)::int as offset
                                from public.micro_goals where goal_id = ${goalId}`;
  return { id: goalId, offset: offset as number };
}
