// One planner turn: a user message in a conversation of kind `planner`, answered by the planning
// pipeline instead of a plain model reply. Persistence, idempotency (client_message_id), resume
// (GET /conversations/{id}/messages/{messageId}/stream), stop, metering and context windowing
// are the chat's: the user and assistant messages are stored by prepareReply, the reply is
// finished by private.finish_message, and stop requests are seen through private.save_progress.
//
// The turn: the orchestrator classifies the message. Accepting the plan on offer approves it
// (the goal and its tasks are saved). new_goal or modify_goal runs the goal planner, then the
// classifier, scheduler and pattern observer at once, and offers the merged plan as a `data-plan`
// part (id = the plan's id, with its version; a revision keeps the id and bumps the version).
// Anything else gets the orchestrator's reply.
import type { Context } from "hono";
import type { AuthedEnv, CurrentUser } from "../auth.ts";
import { ReplyEvents } from "../chat/broadcast.ts";
import { buildContext } from "../chat/context.ts";
import { meter } from "../chat/ledger.ts";
import { rememberedChatSettings } from "../chat/models.ts";
import { type Prepared, prepareReply } from "../chat/prepare.ts";
import { type PartOf, ReplyParts } from "../chat/parts.ts";
import { ProgressSaver } from "../chat/progress.ts";
import type { ReplyPlan } from "../chat/reply.ts";
import { replay } from "../chat/replay.ts";
import { summarize } from "../chat/utility.ts";
import { asUser, jsonb, type JwtClaims, sql, type Tx } from "../db.ts";
import { ApiError, log } from "../http.ts";
import { chatGate } from "../limits.ts";
import { LlmError } from "../llm/errors.ts";
import type { LlmMessage } from "../llm/types.ts";
import { runInBackground } from "../runtime.ts";
import type { ChatStreamEvent } from "../stream/events.ts";
import { encodeSimpleStream, SIMPLE_STREAM_HEADERS } from "../stream/simple.ts";
import { encodeUiMessageStream, UI_STREAM_HEADERS } from "../stream/ui_message_stream.ts";
import { type AgentContext, type Category, classify, orchestrate, planGoal } from "./agents.ts";
import { calendarBusy } from "./calendar.ts";
import { getGoal, savePlan } from "./goals.ts";
import { avoidSlots, observeAndRecord } from "./patterns.ts";
import { fanOutAndMerge, taskKey } from "./pipeline.ts";
import { type PlannerProfile, plannerProfile } from "./profile.ts";
import { schedule } from "./scheduler.ts";
import { horizonDays, taskBusy } from "./tasks.ts";
import { localDate } from "./time.ts";
import type { Interval, PlanContent } from "./types.ts";

const DAY = 86_400_000;

export interface TurnInput {
  content: string;
  conversationId?: string;
  clientMessageId?: string;
  /** A modify turn for this goal (PATCH /goals/{id}/modify). */
  goalId?: string;
}

export interface StoredPlan {
  id: string;
  conversation_id: string;
  goal_id: string | null;
  version: number;
  status: "proposed" | "approved" | "rejected";
  content: PlanContent;
}

/** The part the client renders: the plan, its id and version, and whether it was saved. */
export const planPart = (p: StoredPlan): PartOf<"data"> => ({
  type: "data",
  name: "plan",
  id: p.id,
  data: { plan_id: p.id, version: p.version, status: p.status, goal_id: p.goal_id, ...p.content },
});

// ---- the planner conversation ---------------------------------------------------------------------

/** The given planner conversation (404 unless it is the caller's and of kind planner), or the
 * caller's latest one, or a new one. */
async function plannerConversation(user: CurrentUser, id?: string): Promise<string> {
  return await asUser(user.claims, async (tx) => {
    if (id) {
      const [c] = await tx`select id from public.conversations
                           where id = ${id} and kind = 'planner' and deleted_at is null`;
      if (!c) throw new ApiError(404, "not_found", "Planner conversation not found");
      return c.id as string;
    }
    const [latest] = await tx`select id from public.conversations
                              where kind = 'planner' and deleted_at is null
                              order by coalesce(last_message_at, created_at) desc limit 1`;
    if (latest) return latest.id as string;
    const settings = await rememberedChatSettings(tx);
    const [created] = await tx`insert into public.conversations (user_id, kind, title, model)
                               values (${user.id}, 'planner', 'Planner', ${settings.defaultModel})
                               returning id`;
    return created.id as string;
  });
}

export async function pendingPlan(tx: Tx, conversationId: string): Promise<StoredPlan | null> {
  const [p] = await tx<StoredPlan[]>`
    select id, conversation_id, goal_id, version, status, content from public.plans
    where conversation_id = ${conversationId} and status = 'proposed'
    order by updated_at desc limit 1`;
  return p ?? null;
}

// ---- starting a turn (the route's side) ------------------------------------------------------------

/** Stores the user message, starts the reply in the background, and returns its events. */
export async function startTurn(c: Context<AuthedEnv>, input: TurnInput) {
  const user = c.get("user");
  await chatGate(c); // 429 rate limit, 402 budget (the send picks a cheaper model itself)
  const conversationId = await plannerConversation(user, input.conversationId);
  const prepared: Prepared = await prepareReply(
    { user, requestId: c.get("requestId"), gated: true },
    conversationId,
    { content: input.content, clientMessageId: input.clientMessageId },
  );
  if ("existingReplyId" in prepared) {
    return replay(user, conversationId, prepared.existingReplyId);
  }
  const { plan } = prepared;
  const events = new ReplyEvents({
    messageId: plan.assistantId,
    userId: plan.userId,
    conversationId: plan.conversationId,
  });
  runInBackground(runTurn(prepared.plan, events, input).finally(() => events.close()));
  return events.read();
}

// ---- the reply ---------------------------------------------------------------------------------------

async function runTurn(plan: ReplyPlan, events: ReplyEvents, input: TurnInput) {
  const abort = new AbortController();
  const reply = new ReplyParts((e: ChatStreamEvent) => events.push(e));
  // Stop requests (POST /conversations/{id}/messages/{messageId}/stop) reach us through the
  // message row, as in chat: the saver's heartbeat reads the flag.
  const saver = new ProgressSaver(plan.assistantId, () => abort.abort("stop requested"));
  const metering: Promise<void>[] = [];
  const ctx: AgentContext = {
    chain: plan.chain,
    userId: plan.userId,
    conversationId: plan.conversationId,
    messageId: plan.assistantId,
    requestId: plan.requestId,
    signal: abort.signal,
    metering,
  };
  events.push({ type: "start", messageId: plan.assistantId, conversationId: plan.conversationId });
  if (plan.notice) reply.data({ type: "notice", ...plan.notice });
  let status: "complete" | "error" | "aborted" = "complete";
  let failure: { code: string; message: string } | null = null;
  try {
    const history = await windowedHistory(plan, metering);
    const answered = await answer(ctx, plan, history, input);
    if (abort.signal.aborted) {
      throw new LlmError("aborted", "stopped", plan.chain[0].provider, plan.chain[0].alias);
    }
    reply.text(answered.text);
    if (answered.plan) reply.typed(planPart(answered.plan));
    reply.complete();
  } catch (e) {
    if (abort.signal.aborted || (e instanceof LlmError && e.kind === "aborted")) {
      status = "aborted";
      reply.interrupt();
    } else {
      status = "error";
      failure = e instanceof LlmError || e instanceof ApiError
        ? { code: e instanceof LlmError ? e.kind : e.code, message: e.message }
        : { code: "internal", message: "The planner failed" };
      if (!(e instanceof LlmError || e instanceof ApiError)) {
        log("error", "planner turn failed", { message_id: plan.assistantId, error: String(e) });
      }
      reply.interrupt(failure);
    }
  }
  await saver.stop();
  await Promise.all(metering);
  await sql`select private.finish_message(${plan.assistantId}, ${status}, ${jsonb(reply.parts)},
              ${reply.content}, ${
    status === "complete" ? "stop" : status === "aborted" ? "other" : "error"
  },
              ${Math.round(performance.now() - plan.startedAt)}, ${failure?.code ?? null},
              ${failure ? jsonb(failure) : null})`;
  events.push(
    status === "aborted"
      ? { type: "abort", reason: "stopped" }
      : failure
      ? { type: "error", ...failure }
      : { type: "finish", messageId: plan.assistantId, finishReason: "stop" },
  );
}

/** The conversation windowed to the model's context, as chat does (summary stored once). */
async function windowedHistory(plan: ReplyPlan, metering: Promise<void>[]): Promise<LlmMessage[]> {
  const metered = meter({
    requestId: plan.requestId,
    userId: plan.userId,
    conversationId: plan.conversationId,
    product: "planner",
    productStep: "summary",
  }, metering);
  const context = await buildContext({
    system: "",
    history: plan.history,
    summary: plan.summary,
    spec: plan.chain[0],
    budgetRatio: plan.settings.contextBudgetRatio,
    maxMessages: plan.settings.historyMaxMessages,
    summarize: (previous, turns) => summarize(plan, previous, turns, metered),
  });
  if (context.newSummary) {
    await sql`update public.conversations set summary = ${context.newSummary.text},
                summary_through_id = ${context.newSummary.throughId}
              where id = ${plan.conversationId}`;
  }
  // The summary of dropped turns travels as the first user turn (the agents have their own system prompts).
  return context.system.trim()
    ? [
      { role: "user", content: context.system.trim() },
      { role: "assistant", content: "Noted." },
      ...context.messages,
    ]
    : context.messages;
}

interface Answer {
  text: string;
  plan?: StoredPlan;
}

async function answer(
  ctx: AgentContext,
  plan: ReplyPlan,
  history: LlmMessage[],
  input: TurnInput,
): Promise<Answer> {
  const profile = await plannerProfile(plan.userId);
  const state = await asUser(plan.claims, async (tx) => ({
    goals: await tx<{ id: string; title: string; status: string }[]>`
      select id, title, status from public.goals order by created_at desc limit 20`,
    pending: await pendingPlan(tx, plan.conversationId),
    goal: input.goalId ? await getGoal(tx, input.goalId) : null,
  }));
  if (input.goalId && !state.goal) throw new ApiError(404, "not_found", "Goal not found");
  const route = await orchestrate(ctx, {
    history,
    goals: state.goals,
    pendingPlan: state.pending
      ? { title: state.pending.content.goal.title, version: state.pending.version }
      : null,
    profileComplete: profile.complete,
  });

  if (state.pending && route.approves_plan && !input.goalId) {
    const saved = await approvePlan(
      plan.claims,
      plan.userId,
      state.pending.id,
      state.pending.version,
    );
    return {
      text: `Saved "${saved.content.goal.title}". Your tasks are on your schedule.`,
      plan: saved,
    };
  }
  const intent = input.goalId ? "modify_goal" : route.intent;
  if (intent !== "new_goal" && intent !== "modify_goal") {
    return { text: route.reply || "How can I help with your goals?" };
  }
  const goalId = input.goalId ?? (intent === "modify_goal" ? route.goal_id : null);
  const goal = goalId
    ? state.goal ?? (await asUser(plan.claims, (tx) => getGoal(tx, goalId)))
    : null;
  // A request for changes while a plan is on offer revises that plan (same id, next version).
  const revising = state.pending && !goalId && intent === "modify_goal" ? state.pending : null;
  const content = await proposePlan(
    ctx,
    plan.claims,
    profile,
    history,
    revising?.content ?? null,
    goal ? { title: goal.title, description: goal.description } : null,
  );
  const stored = await asUser(
    plan.claims,
    (tx) => storePlan(tx, plan.userId, plan.conversationId, content, revising, goal?.id ?? null),
  );
  return { text: content.message, plan: stored };
}

/** The goal planner, then the classifier, scheduler and observer at once, merged. */
export async function proposePlan(
  ctx: AgentContext,
  claims: JwtClaims,
  profile: PlannerProfile,
  history: LlmMessage[],
  previous: PlanContent | null,
  goal: { title: string; description: string | null } | null,
): Promise<PlanContent> {
  const zone = profile.timeZone;
  const now = Date.now();
  const w = profile.preferences.working_hours;
  const draft = await planGoal(ctx, {
    history,
    previous,
    goal,
    today: localDate(now, zone),
    timeZone: zone,
    workingHours: `${w.start}-${w.end} on ISO weekdays ${w.days.join(",")}`,
  });
  const loaded = await asUser(claims, async (tx) => {
    const days = await horizonDays(tx);
    const end = now + (days + 1) * DAY;
    const busy: Interval[] = [
      ...(await calendarBusy(tx, now, end)),
      ...(await taskBusy(tx, now, end, zone)),
    ];
    const taxonomy = await tx<
      Category[]
    >`select slug, label, description from public.planner_categories
                                          order by position, slug`;
    return { days, busy, taxonomy, avoid: await avoidSlots(tx) };
  });
  return await fanOutAndMerge(draft, {
    classify: (d) =>
      classify(ctx, {
        title: d.goal.title,
        description: d.goal.description,
        tasks: d.tasks.map((t) => t.title),
      }, loaded.taxonomy),
    schedule: (d) =>
      Promise.resolve(schedule({
        requests: d.tasks.map((t, i) => ({
          key: taskKey(i),
          durationMinutes: t.duration_minutes,
          rrule: t.rrule,
          preferredTime: t.preferred_time,
        })),
        timeZone: zone,
        preferences: profile.preferences,
        busy: loaded.busy,
        avoid: loaded.avoid,
        // From the next quarter hour on.
        from: Math.ceil((now + 60_000) / 900_000) * 900_000,
        days: loaded.days,
      })),
    observe: () => asUser(claims, (tx) => observeAndRecord(tx, zone)),
  }, zone);
}

async function storePlan(
  tx: Tx,
  userId: string,
  conversationId: string,
  content: PlanContent,
  revising: StoredPlan | null,
  goalId: string | null,
): Promise<StoredPlan> {
  if (revising) {
    const [p] = await tx<StoredPlan[]>`
      update public.plans set content = ${jsonb(content)}, version = version + 1
      where id = ${revising.id} and status = 'proposed'
      returning id, conversation_id, goal_id, version, status, content`;
    if (p) return p;
  }
  // Anything still on offer in this conversation is superseded by the new plan.
  await tx`update public.plans set status = 'rejected'
           where conversation_id = ${conversationId} and status = 'proposed'`;
  const [p] = await tx<StoredPlan[]>`
    insert into public.plans (user_id, conversation_id, goal_id, content)
    values (${userId}, ${conversationId}, ${goalId}, ${jsonb(content)})
    returning id, conversation_id, goal_id, version, status, content`;
  return p;
}

/**
 * Approves a proposed plan at the version the user saw: the goal, its micro-goals, series and
 * tasks are saved in one transaction with the plan's new status. 409 when the plan was revised
 * since, or is no longer on offer.
 */
export async function approvePlan(
  claims: JwtClaims,
  userId: string,
  planId: string,
  version: number,
) {
  return await asUser(claims, async (tx) => {
    const [p] = await tx<StoredPlan[]>`
      select id, conversation_id, goal_id, version, status, content from public.plans
      where id = ${planId} for update`;
    if (!p) throw new ApiError(404, "not_found", "Plan not found");
    if (p.status !== "proposed") throw new ApiError(409, "not_proposed", `The plan is ${p.status}`);
    if (p.version !== version) {
      throw new ApiError(409, "stale_version", `The plan is at version ${p.version}`, {
        version: p.version,
      });
    }
    const through = Date.now() + (await horizonDays(tx)) * DAY;
    const goalId = await savePlan(tx, userId, p, through);
    return { ...p, status: "approved" as const, goal_id: goalId };
  });
}

/** The turn's events as the client asked: the UI message stream, or `?stream=simple`. */
export function streamResponse(
  mode: "ui" | "simple" | undefined,
  events: AsyncIterable<ChatStreamEvent>,
) {
  return mode === "simple"
    ? new Response(encodeSimpleStream(events), { headers: SIMPLE_STREAM_HEADERS })
    : new Response(encodeUiMessageStream(events), { headers: UI_STREAM_HEADERS });
}
