// POST /prompts, the orchestration: record the prompt, route it, do what its intent asks
// (summarize, task_detection, search, chat), record what it produced, answer
// `{prompt_id, intent, response}` (seed 004 5.3). Rate limit (class "prompts") and budget are
// checked by the route before this runs; every model call is metered by InboxRun.
import { z } from "zod";
import type { CurrentUser } from "../auth.ts";
import { asUser, jsonb, sql } from "../db.ts";
import { ApiError, log } from "../http.ts";
import type { ModelOverride } from "../limits.ts";
import { LlmError } from "../llm/errors.ts";
import { inboxChat, replyOutcome } from "./chat.ts";
import { inboxModels, InboxRun } from "./llm.ts";
import { PromptContext, type RoutedPrompt, routePrompt } from "./router.ts";
import { searchAndAnswer } from "./search.ts";
import { inboxSettings } from "./settings.ts";
import type { ChunkStream } from "./stream.ts";
import { summarize } from "./summarize.ts";
import { detectTasks, tasksResponse } from "./tasks.ts";
import { iso, type Reader, summaryResponse } from "./types.ts";

export const PromptRequest = z.strictObject({
  prompt: z.string().trim().min(1).max(4000),
  context: PromptContext.extend({
    conversation_id: z.uuid().optional().describe("chat: continue this inbox conversation"),
  }).default({}),
});
export type PromptRequest = z.infer<typeof PromptRequest>;

export interface PromptAnswer {
  prompt_id: string;
  intent: RoutedPrompt["intent"];
  response: Record<string, unknown>;
}

interface Produced {
  summary_id?: string;
  task_ids?: string[];
  proposal_ids?: string[];
  draft_ids?: string[];
  conversation_id?: string;
}

export interface PromptCall {
  user: CurrentUser;
  requestId: string;
  /** Past the budget's soft limit: the cheaper model answers. */
  downgrade?: ModelOverride;
  stream?: ChunkStream;
  /** Set by a scheduled digest. */
  digestId?: string;
  /** The caller's Authorization header: chat tools store files as the user (create_artifact). */
  authorization?: string;
  now?: Date;
}

/**
 * Runs a prompt to its end. The caller has checked limits and `context.conversation_id`. With
 * `call.stream`, the stream always ends: a result and finish, or an error chunk.
 */
export async function runPrompt(call: PromptCall, body: PromptRequest): Promise<PromptAnswer> {
  try {
    return await execute(call, body);
  } catch (err) {
    call.stream?.push({ type: "error", errorText: describe(err).message });
    throw err;
  } finally {
    call.stream?.close();
  }
}

async function execute(call: PromptCall, body: PromptRequest): Promise<PromptAnswer> {
  const { user, stream } = call;
  const now = call.now ?? new Date();
  const read: Reader = (fn) => asUser(user.claims, fn);
  const { settings, timeZone, models } = await read(async (tx) => {
    const settings = await inboxSettings(tx);
    const [profile] = await tx<{ timezone: string }[]>`
      select timezone from public.profiles where id = ${user.id}`;
    return {
      settings,
      timeZone: profile?.timezone ?? "UTC",
      models: await inboxModels(tx, settings, call.downgrade?.model),
    };
  });
  const run = new InboxRun(user, call.requestId, settings, models);
  const promptId = await recordPrompt(user.id, body, call.digestId);
  stream?.push({ type: "start", messageId: promptId });
  if (call.downgrade) stream?.push({ type: "data-notice", data: call.downgrade.notice });

  try {
    const routed = await routePrompt(run, {
      prompt: body.prompt,
      context: body.context,
      now,
      timeZone,
    });
    await recordRoute(promptId, routed);
    stream?.push({
      type: "data-prompt",
      data: {
        prompt_id: promptId,
        intent: routed.intent,
        time_range: { start: iso(routed.window.start), end: iso(routed.window.end) },
        window_from: routed.windowFrom,
        sources: routed.sources,
      },
    });
    const progress = (data: Record<string, unknown>) =>
      stream?.push({ type: "data-progress", data, transient: true });
    const filter = { window: routed.window, sources: routed.sources };

    let response: Record<string, unknown>;
    let produced: Produced;
    switch (routed.intent) {
      case "summarize": {
        const { summary, reused } = await summarize(run, read, {
          filter,
          topic: routed.topic,
          timeZone,
          progress,
        });
        response = { ...summaryResponse(summary), reused };
        produced = { summary_id: summary.id };
        break;
      }
      case "task_detection": {
        progress({ stage: "detecting" });
        const found = await detectTasks(run, read, { filter, timeZone, promptId });
        response = {
          ...tasksResponse(found.tasks, routed.priority),
          proposal_ids: found.proposalIds,
          draft_ids: found.draftIds,
        };
        produced = {
          task_ids: found.tasks.map((t) => t.id),
          proposal_ids: found.proposalIds,
          draft_ids: found.draftIds,
        };
        break;
      }
      case "search": {
        progress({ stage: "searching" });
        const explicit = routed.windowFrom === "default" ? null : routed.window;
        response = await searchAndAnswer(run, {
          query: routed.topic ?? body.prompt,
          sources: routed.sources,
          window: explicit,
          timeZone,
        });
        produced = {};
        break;
      }
      case "chat": {
        const chat = await inboxChat(user, call.requestId, {
          prompt: body.prompt,
          conversationId: body.context.conversation_id,
          authorization: call.authorization,
        });
        // The reply's text as text parts (opened before their first delta, as the client needs).
        const open = new Set<string>();
        for await (const event of chat.events) {
          if (event.type === "text-delta") {
            if (!open.has(event.id)) stream?.push({ type: "text-start", id: event.id });
            open.add(event.id);
            stream?.push({ type: "text-delta", id: event.id, delta: event.delta });
          } else if (event.type === "text-end" && open.delete(event.id)) {
            stream?.push({ type: "text-end", id: event.id });
          }
        }
        for (const id of open) stream?.push({ type: "text-end", id });
        await chat.done;
        const outcome = await replyOutcome(user, chat.messageId);
        response = {
          conversation_id: chat.conversationId,
          message_id: chat.messageId,
          status: outcome?.status ?? "error",
          content: outcome?.content ?? "",
        };
        produced = { conversation_id: chat.conversationId };
        break;
      }
    }
    await run.settle();
    await finishPrompt(promptId, response, produced);
    const answer = { prompt_id: promptId, intent: routed.intent, response };
    stream?.push({ type: `data-${routed.intent}`, data: answer });
    stream?.push({ type: "finish", finishReason: "stop" });
    return answer;
  } catch (err) {
    await run.settle();
    const failure = describe(err);
    await failPrompt(promptId, failure).catch((e) =>
      log("error", "prompt failure not recorded", { prompt_id: promptId, error: String(e) })
    );
    throw err instanceof ApiError
      ? err
      : new ApiError(failure.status, failure.code, failure.message, { prompt_id: promptId });
  }
}

/** What a failed prompt says; provider trouble is a 502/503, never the provider's own words. */
function describe(
  err: unknown,
): { status: 400 | 402 | 404 | 409 | 422 | 429 | 500 | 502 | 503; code: string; message: string } {
  if (err instanceof ApiError) {
    return { status: err.status as 422, code: err.code, message: err.message };
  }
  if (err instanceof LlmError) {
    // Our request or the model's answer was wrong (another try will not help): 502. The
    // provider was down, overloaded or unreachable after retries and fallbacks: 503.
    return err.kind === "invalid_output" || err.kind === "invalid_request"
      ? {
        status: 502,
        code: "invalid_model_output",
        message: "The model did not give a valid answer; try again",
      }
      : {
        status: 503,
        code: "provider_unavailable",
        message: "The model provider is unavailable; try again shortly",
      };
  }
  log("error", "prompt failed", { error: String(err) });
  return { status: 500, code: "internal", message: "Internal error" };
}

// ---- the prompts table (service connection: the record is the function's, users read it) ----

async function recordPrompt(
  userId: string,
  body: PromptRequest,
  digestId?: string,
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into public.prompts (user_id, prompt, context, digest_id)
    values (${userId}, ${body.prompt}, ${jsonb(body.context)}, ${digestId ?? null})
    returning id`;
  return row.id;
}

async function recordRoute(id: string, r: RoutedPrompt): Promise<void> {
  await sql`update public.prompts set intent = ${r.intent}, window_start = ${r.window.start},
    window_end = ${r.window.end}, window_from = ${r.windowFrom}, sources = ${r.sources},
    priority = ${r.priority}, topic = ${r.topic} where id = ${id}`;
}

async function finishPrompt(id: string, response: unknown, p: Produced): Promise<void> {
  await sql`update public.prompts set status = 'complete', response = ${jsonb(response)},
    summary_id = ${p.summary_id ?? null}, task_ids = ${p.task_ids ?? []}::uuid[],
    proposal_ids = ${p.proposal_ids ?? []}::uuid[], draft_ids = ${p.draft_ids ?? []}::uuid[],
    conversation_id = ${p.conversation_id ?? null} where id = ${id}`;
}

async function failPrompt(id: string, failure: { code: string; message: string }): Promise<void> {
  await sql`update public.prompts set status = 'error',
    error = ${jsonb({ code: failure.code, message: failure.message })} where id = ${id}`;
}
