// The planner's contract (Flux, seed 001): task statuses shared with the inbox, the user's planner
// preferences, and the typed outputs of the planning agents. Routes, agents and tests depend on
// this file; the SQL side of the same facts is supabase/migrations/20261201040000_planner.sql.
import { z } from "@hono/zod-openapi";

// ---- tasks ------------------------------------------------------------------------------------

/**
 * One status vocabulary for the inbox and the planner (the column's check constraint):
 * `open` is the inbox's open and Flux's pending; `missed` and `cancelled` are the planner's.
 */
export const TASK_STATUSES = ["open", "done", "snoozed", "missed", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const PRIORITIES = ["low", "medium", "high"] as const;
export type Priority = (typeof PRIORITIES)[number];

/** A wall-clock time without zone, as users give it: "2027-03-26T09:00:00" (seconds optional). */
export const LocalDateTime = z.string().regex(
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/,
  "a local date and time like 2027-03-26T09:00:00",
);

/** An IANA time zone name ("Europe/Berlin"): the one check, shared with PATCH /account/me. */
export { IanaTimeZone as TimeZone } from "../timezone.ts";

/** A busy or booked span of time, [start, end) in epoch milliseconds. */
export interface Interval {
  start: number;
  end: number;
  /** What it is, for conflict reports: "calendar:<id>", "task:<id>". */
  source?: string;
}

// ---- preferences ------------------------------------------------------------------------------

const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time like 09:00");
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The keys of profiles.preferences that the planner and the reminders read. */
export const PlannerPreferences = z.strictObject({
  /** Tasks are scheduled inside these hours on these ISO weekdays (1 = Monday). */
  working_hours: z.strictObject({
    start: HourMinute,
    end: HourMinute,
    days: z.array(z.int().min(1).max(7)).min(1).max(7)
      .refine((d) => new Set(d).size === d.length, "each weekday once"),
  }).refine((w) => minutesOf(w.start) < minutesOf(w.end), "working hours end after they start"),
  /** Nothing is scheduled and no reminder is sent inside these hours; may span midnight. */
  quiet_hours: z.strictObject({ start: HourMinute, end: HourMinute })
    .refine((q) => q.start !== q.end, "quiet hours must not be empty"),
  /** The first reminder goes out this long before a task's start. */
  reminder_lead_minutes: z.int().min(0).max(1440),
  /** Each escalation stage waits this long for an answer. */
  escalation_window_minutes: z.int().min(1).max(240),
});
export type PlannerPreferences = z.infer<typeof PlannerPreferences>;
/** What PATCH /account/me accepts under `preferences` for these keys. */
export const PlannerPreferencesPatch = PlannerPreferences.partial();
export const PREFERENCE_KEYS = Object.keys(PlannerPreferences.shape) as (keyof PlannerPreferences)[];

/**
 * Checks the planner's keys of a whole preferences object (other keys are the client's own), for
 * PATCH /account/me. The database checks the same keys (profiles_planner_preferences), so a write
 * through PostgREST cannot store what the reminders' tick would choke on.
 */
export function checkPlannerPreferences(prefs: Record<string, unknown>, ctx: z.RefinementCtx) {
  const mine = Object.fromEntries(PREFERENCE_KEYS.filter((k) => k in prefs).map((k) => [k, prefs[k]]));
  const result = PlannerPreferencesPatch.safeParse(mine);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue, code: "custom" } as never);
  }
}
export { minutesOf };

// ---- agents ------------------------------------------------------------------------------------

/** The orchestrator's intents (seed 001's five, plus onboarding while the profile is incomplete). */
export const INTENTS = [
  "new_goal",
  "modify_goal",
  "task_action",
  "question",
  "small_talk",
  "onboarding",
] as const;
export type Intent = (typeof INTENTS)[number];

export const OrchestratorOutput = z.strictObject({
  intent: z.enum(INTENTS),
  /** True when the message accepts the plan currently proposed ("yes, go ahead"). */
  approves_plan: z.boolean(),
  /** The goal a modify_goal or task_action message is about, when it names one. */
  goal_id: z.uuid().nullable(),
  /** A reply for question, small_talk, task_action and onboarding turns. */
  reply: z.string().max(4000),
});
export type OrchestratorOutput = z.infer<typeof OrchestratorOutput>;

export const TIME_OF_DAY = ["morning", "afternoon", "evening", "any"] as const;
export type TimeOfDay = (typeof TIME_OF_DAY)[number];

/** Only these frequencies: a task that recurs every hour is not a plan. */
export const Rrule = z.string().max(300).regex(
  /^FREQ=(DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,+\-:]+)*$/,
  "an RFC 5545 RRULE value such as FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6 (DAILY, WEEKLY, MONTHLY or YEARLY)",
);

export const ProposedTask = z.strictObject({
  title: z.string().min(1).max(200),
  details: z.string().max(2000).nullable(),
  duration_minutes: z.int().min(5).max(480),
  /** Null for a one-off task. */
  rrule: Rrule.nullable(),
  /** The position of the micro-goal the task serves. */
  micro_goal: z.int().min(1).max(20),
  preferred_time: z.enum(TIME_OF_DAY),
});
export type ProposedTask = z.infer<typeof ProposedTask>;

export const GoalPlannerOutput = z.strictObject({
  goal: z.strictObject({
    title: z.string().min(1).max(200),
    description: z.string().max(2000).nullable(),
    target_date: z.iso.date().nullable(),
  }),
  micro_goals: z.array(z.strictObject({
    position: z.int().min(1).max(20),
    title: z.string().min(1).max(200),
    description: z.string().max(1000).nullable(),
  })).min(1).max(10),
  tasks: z.array(ProposedTask).min(1).max(20),
  /** What the planner says to the user about the plan. */
  message: z.string().min(1).max(4000),
}).refine(
  (p) => p.micro_goals.every((m, i) => m.position === i + 1),
  "micro_goals are numbered 1, 2, 3... in order",
).refine(
  (p) => p.tasks.every((t) => t.micro_goal <= p.micro_goals.length),
  "every task's micro_goal is one of the micro_goals' positions",
);
export type GoalPlannerOutput = z.infer<typeof GoalPlannerOutput>;

/** The classifier's output; the taxonomy is data (planner_categories), checked by the caller. */
export const ClassifierOutput = z.strictObject({
  categories: z.array(z.string().min(1).max(40)).min(1).max(3),
});

// ---- scheduler and pattern observer ------------------------------------------------------------

/** What the scheduler is asked to place: one task of a plan, or a task being rescheduled. */
export interface SlotRequest {
  key: string;
  durationMinutes: number;
  rrule: string | null;
  preferredTime: TimeOfDay;
}

export interface Slot {
  key: string;
  /** Local wall-clock start of the first occurrence (the series' DTSTART). */
  startLocal: string;
  /** The same instant in UTC. */
  startAt: string;
  /** Occurrences of a recurring task inside the horizon that were checked for conflicts. */
  occurrencesChecked: number;
}

export interface ScheduleResult {
  slots: Slot[];
  /** Requests no slot could be found for in the window, with why. */
  unscheduled: { key: string; reason: string }[];
}

/** (ISO weekday, local hour) cells the observer found to be missed often: the scheduler avoids them. */
export interface AvoidSlot {
  weekday: number;
  hour: number;
}

export interface ObservedPattern {
  kind: "missed_slot" | "productive_slot" | "streak" | "category_performance";
  key: string;
  description: string;
  data: Record<string, unknown>;
  confidence: number;
  sample_size: number;
}

export interface Observation {
  patterns: ObservedPattern[];
  avoid: AvoidSlot[];
  /** True when there was too little history: the defaults below steer instead. */
  coldStart: boolean;
}

// ---- the plan a user approves --------------------------------------------------------------

/** The `data-plan` part's payload: the merged result of the planning pipeline. */
export interface PlanContent {
  goal: GoalPlannerOutput["goal"];
  categories: string[];
  micro_goals: GoalPlannerOutput["micro_goals"];
  tasks: (ProposedTask & { start_local: string | null; start_at: string | null })[];
  time_zone: string;
  unscheduled: ScheduleResult["unscheduled"];
  insights: string[];
  message: string;
}
