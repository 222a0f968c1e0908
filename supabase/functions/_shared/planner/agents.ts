// The planner's model-backed agents, each a typed function over the LLM layer: a system prompt,
// the context it needs, and a zod schema its output must match (generateObject asks again with
// the problem fed back, at most `maxRepairs` times, then fails with invalid_output). Every
// provider attempt is metered under product "planner" with the agent's step
// ("planner.orchestrator", "planner.goal_planner", "planner.classifier").
import { z } from "zod";
import { meter } from "../chat/ledger.ts";
import { generateObject } from "../llm/generate.ts";
import type { LlmMessage, ModelSpec } from "../llm/types.ts";
import {
  ClassifierOutput,
  GoalPlannerOutput,
  INTENTS,
  OrchestratorOutput,
  type PlanContent,
} from "./types.ts";

export interface AgentContext {
  chain: ModelSpec[];
  userId: string;
  conversationId?: string | null;
  messageId?: string | null;
  requestId?: string;
  signal?: AbortSignal;
  /** Ledger writes still in flight; the caller awaits them before it answers. */
  metering: Promise<void>[];
}

export const PLANNER_STEPS = {
  orchestrator: "planner.orchestrator",
  goalPlanner: "planner.goal_planner",
  classifier: "planner.classifier",
} as const;

const MAX_REPAIRS = 2;

async function runAgent<T>(
  ctx: AgentContext,
  step: string,
  system: string,
  messages: LlmMessage[],
  schema: z.ZodType<T>,
): Promise<T> {
  const metered = meter({
    requestId: ctx.requestId,
    userId: ctx.userId,
    conversationId: ctx.conversationId,
    messageId: ctx.messageId,
    product: "planner",
    productStep: step,
  }, ctx.metering);
  const { object } = await generateObject(
    ctx.chain,
    { system, messages, maxOutputTokens: 4096, timeoutMs: 60_000, signal: ctx.signal },
    schema,
    { maxRepairs: MAX_REPAIRS, ...metered },
  );
  return object;
}

// ---- orchestrator ---------------------------------------------------------------------------

export interface OrchestratorInput {
  history: LlmMessage[];
  goals: { id: string; title: string; status: string }[];
  pendingPlan: { title: string; version: number } | null;
  profileComplete: boolean;
}

export function orchestrate(ctx: AgentContext, input: OrchestratorInput) {
  const system = [
    "You are the orchestrator of a goal planner. Classify the user's latest message into one intent:",
    "new_goal (they want to achieve something new), modify_goal (change an existing goal or the plan being negotiated),",
    "task_action (complete, skip, move or ask about a task), question (about their plans or progress),",
    "small_talk (anything else), onboarding (only while the profile is incomplete and they answer setup questions).",
    `Intents: ${INTENTS.join(", ")}.`,
    input.pendingPlan
      ? `A plan "${input.pendingPlan.title}" (version ${input.pendingPlan.version}) awaits approval: set approves_plan true only when the message clearly accepts it as it is; a request for changes is modify_goal with approves_plan false.`
      : "No plan awaits approval: approves_plan is false.",
    input.profileComplete
      ? "The user's profile is complete."
      : "The user's profile is incomplete (working hours or time zone unknown).",
    input.goals.length
      ? `The user's goals: ${input.goals.map((g) => `${g.id} "${g.title}" (${g.status})`).join("; ")}. Set goal_id when the message is about one of them.`
      : "The user has no goals yet; goal_id is null.",
    "reply: a short answer for question, small_talk, task_action and onboarding; empty otherwise.",
  ].join("\n");
  return runAgent(ctx, PLANNER_STEPS.orchestrator, system, input.history, OrchestratorOutput);
}

// ---- goal planner ------------------------------------------------------------------------------

export interface GoalPlannerInput {
  history: LlmMessage[];
  /** The plan being negotiated, when this turn revises it. */
  previous: PlanContent | null;
  /** The goal a modify turn revises. */
  goal: { title: string; description: string | null } | null;
  today: string;
  timeZone: string;
  workingHours: string;
}

export function planGoal(ctx: AgentContext, input: GoalPlannerInput) {
  const system = [
    "You are a goal planner. Turn the user's goal into a realistic plan: 1 to 10 micro-goals that",
    "unlock in order (numbered from 1), and 1 to 20 tasks, each serving one micro-goal, with a duration",
    "in minutes, a preferred time of day, and an RFC 5545 RRULE value (FREQ=DAILY|WEEKLY|MONTHLY, BYDAY,",
    "COUNT or UNTIL) when it repeats, or null for a one-off task. Do not pick dates or clock times:",
    "a scheduler places the tasks in the user's free time. Keep early micro-goals small.",
    `Today is ${input.today} in ${input.timeZone}; the user works ${input.workingHours}.`,
    input.goal ? `The user is revising their goal "${input.goal.title}".` : "",
    input.previous
      ? `This turn revises the plan below after the user's feedback: change what they ask (fewer days, mornings only...), keep the rest.\n${JSON.stringify({ goal: input.previous.goal, micro_goals: input.previous.micro_goals, tasks: input.previous.tasks.map(({ start_local: _s, start_at: _a, ...t }) => t) })}`
      : "",
    "message: a few sentences for the user presenting the plan and asking whether to save it.",
  ].filter(Boolean).join("\n");
  return runAgent(ctx, PLANNER_STEPS.goalPlanner, system, input.history, GoalPlannerOutput);
}

// ---- classifier --------------------------------------------------------------------------------

export interface Category {
  slug: string;
  label: string;
  description: string;
}

/** 1 to 3 categories of the taxonomy; a slug outside it is invalid output (and repaired). */
export async function classify(
  ctx: AgentContext,
  goal: { title: string; description: string | null; tasks: string[] },
  taxonomy: Category[],
): Promise<string[]> {
  const slugs = taxonomy.map((c) => c.slug);
  const schema = ClassifierOutput.extend({
    categories: z.array(z.enum(slugs as [string, ...string[]])).min(1).max(3)
      .refine((c) => new Set(c).size === c.length, "each category once"),
  });
  const system = [
    "You tag a goal with 1 to 3 categories from this fixed taxonomy (use the slugs), most fitting first:",
    ...taxonomy.map((c) => `- ${c.slug}: ${c.label} (${c.description})`),
  ].join("\n");
  const content = `Goal: ${goal.title}\n${goal.description ?? ""}\nTasks: ${goal.tasks.join("; ")}`;
  const out = await runAgent(ctx, PLANNER_STEPS.classifier, system, [{ role: "user", content }], schema);
  return out.categories;
}
