// The planning pipeline (seed 001 3.7 without LangGraph): the goal planner drafts a plan; then the
// classifier (tags), the scheduler (slots) and the pattern observer (history) run at the same time,
// and their results are merged into the plan the user is shown as a `data-plan` part.
import type { GoalPlannerOutput, Observation, PlanContent, ScheduleResult } from "./types.ts";

export interface FanOut {
  classify: (draft: GoalPlannerOutput) => Promise<string[]>;
  schedule: (draft: GoalPlannerOutput) => Promise<ScheduleResult>;
  observe: () => Promise<Observation>;
}

/** The key a draft's task has in scheduler requests and results. */
export const taskKey = (index: number) => `task-${index + 1}`;

/** Runs the three sub-agents concurrently and merges what they return. */
export async function fanOutAndMerge(
  draft: GoalPlannerOutput,
  agents: FanOut,
  timeZone: string,
): Promise<PlanContent> {
  const [categories, scheduled, observation] = await Promise.all([
    agents.classify(draft),
    agents.schedule(draft),
    agents.observe(),
  ]);
  return mergePlan(draft, categories, scheduled, observation, timeZone);
}

export function mergePlan(
  draft: GoalPlannerOutput,
  categories: string[],
  scheduled: ScheduleResult,
  observation: Observation,
  timeZone: string,
): PlanContent {
  const slotOf = new Map(scheduled.slots.map((s) => [s.key, s]));
  const tasks = draft.tasks.map((t, i) => {
    const slot = slotOf.get(taskKey(i));
    return { ...t, start_local: slot?.startLocal ?? null, start_at: slot?.startAt ?? null };
  });
  const insights: string[] = [];
  if (observation.coldStart) {
    insights.push("Not much history yet: tasks follow your preferred times of day.");
  } else {
    for (const p of observation.patterns.filter((p) => p.kind === "missed_slot")) {
      insights.push(`Avoided: ${p.description.toLowerCase()}.`);
    }
  }
  for (const u of scheduled.unscheduled) {
    const task = draft.tasks[Number(u.key.split("-")[1]) - 1];
    insights.push(`No free slot for "${task?.title ?? u.key}" in the next days (${u.reason}).`);
  }
  return {
    goal: draft.goal,
    categories,
    micro_goals: draft.micro_goals,
    tasks,
    time_zone: timeZone,
    unscheduled: scheduled.unscheduled,
    insights,
    message: draft.message,
  };
}
