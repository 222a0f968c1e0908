// Generating one assistant reply: stream it from the model chain, run the tools it calls, save
// it as it goes, meter every provider call, and end the message in a final state whatever
// happens. It runs in the background (EdgeRuntime.waitUntil), so a client that goes away does
// not stop it; a stop request from any instance does, through the database.
import { jsonb, type JwtClaims, sql } from "../db.ts";
import { log } from "../http.ts";
import { LlmError } from "../llm/errors.ts";
import { type AttemptRecord, streamChat } from "../llm/stream.ts";
import type {
  FinishReason as LlmFinishReason,
  LlmMessage,
  LlmPart,
  ModelSpec,
} from "../llm/types.ts";
import {
  type ChatStreamEvent,
  type Citation,
  citationKey,
  type FinishReason,
} from "../stream/events.ts";
import { ReplyEvents } from "./broadcast.ts";
import { buildContext, type HistoryMessage, type StoredSummary } from "./context.ts";
import { estimateTokens, recordUsage } from "./ledger.ts";
import type { ChatSettings } from "./models.ts";
import { summarize, writeTitle } from "./utility.ts";
import { chatTools } from "./tools.ts";
import type { Tool, ToolContext } from "../tool.ts";
import { type MentionedDocument, mentionsPrompt } from "./mentions.ts";

/** Everything a reply needs, gathered (and authorized) by the request that starts it. */
export interface ReplyPlan {
  requestId: string;
  userId: string;
  /** The caller's verified claims: tools read knowledge as the user (RLS). */
  claims: JwtClaims;
  timezone: string;
  conversationId: string;
  assistantId: string;
  chain: ModelSpec[];
  utilityChain: ModelSpec[];
  settings: ChatSettings;
  system: string;
  /** The active branch, oldest first, ending with the user message being answered. */
  history: HistoryMessage[];
  summary: StoredSummary | null;
  /** Set on a conversation's first exchange: the title is written from this text. */
  titleFrom: string | null;
  /** Documents @mentioned in the message: their text goes into the model's context. */
  mentions: MentionedDocument[];
  /** Told to the user right after `start`, e.g. that a cheaper model answers (budget). */
  notice?: { code: string; message: string };
  startedAt: number;
}

/** Stored message parts (messages.parts). */
export type Part =
  | { type: "text"; text: string }
  | { type: "reasoning"; text: string }
  | { type: "tool_call"; id: string; name: string; input: unknown }
  | {
    type: "tool_result";
    tool_call_id: string;
    name: string;
    output: unknown;
    is_error: boolean;
    duration_ms: number;
  }
  | {
    type: "citation";
    document_id: string;
    chunk_index: number;
    title: string;
    snippet: string;
    url?: string;
  }
  | { type: "error"; code: string; message: string }
  /** A typed data part (the planner's `plan`), sent to clients as `data-<name>`. */
  | { type: "data"; name: string; id: string; data: unknown };

const PROGRESS_INTERVAL_MS = 250;
const HEARTBEAT_MS = 1000;
const ATTEMPT_TIMEOUT_MS = Number(Deno.env.get("AIDE_LLM_TIMEOUT_MS") ?? 120_000);
const TITLE_WAIT_MS = 10_000;

const FINISH: Record<LlmFinishReason, FinishReason> = {
  stop: "stop",
  length: "length",
  tool_calls: "tool-calls",
  content_filter: "content-filter",
  error: "error",
  aborted: "other",
};

/**
 * Saves the reply so far at a bounded rate (first token at once, then at most every 250 ms,
 * and a heartbeat every second that also notices stop requests before any token arrives).
 */
class ProgressSaver {
  #snapshot: { parts: Part[]; content: string; model?: ModelSpec; ttftMs?: number } | null = null;
  #dirty = false;
  #written = false;
  #lastWrite = 0;
  #writing: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval>;

  constructor(private readonly messageId: string, private readonly onStop: () => void) {
    this.#timer = setInterval(() => this.#tick(), PROGRESS_INTERVAL_MS);
  }

  update(parts: Part[], content: string, model: ModelSpec | undefined, ttftMs: number | undefined) {
    this.#snapshot = { parts, content, model, ttftMs };
    this.#dirty = true;
    if (!this.#written) this.#flush();
  }

  #tick() {
    const idle = performance.now() - this.#lastWrite;
    if (this.#dirty || idle >= HEARTBEAT_MS) this.#flush();
  }

  #flush() {
    const snap = this.#snapshot;
    this.#dirty = false;
    this.#written = true;
    this.#lastWrite = performance.now();
    this.#writing = this.#writing.then(async () => {
      const [row] = await sql<{ stop: boolean | null }[]>`
        select private.save_progress(${this.messageId}, ${jsonb(snap?.parts ?? [])},
          ${snap?.content ?? ""}, ${snap?.model?.alias ?? null}, ${snap?.model?.provider ?? null},
          ${snap?.model?.providerModel ?? null}, ${snap?.ttftMs ?? null}) as stop`;
      if (row?.stop) this.onStop();
    }).catch((e) =>
      log("warn", "progress not saved", { message_id: this.messageId, error: String(e) })
    );
  }

  async stop() {
    clearInterval(this.#timer);
    await this.#writing;
  }
}

/** Starts the reply in the background and returns its events. */
export function startReply(plan: ReplyPlan): { events: ReplyEvents; done: Promise<void> } {
  const events = new ReplyEvents();
  const done = generate(plan, events).catch((e) => {
    log("error", "reply failed unexpectedly", { message_id: plan.assistantId, error: String(e) });
  }).finally(() => events.close());
  return { events, done };
}

async function generate(plan: ReplyPlan, events: ReplyEvents) {
  const emit = (e: ChatStreamEvent) => events.push(e);
  const parts: Part[] = [];
  const abort = new AbortController();
  const saver = new ProgressSaver(plan.assistantId, () => abort.abort("stop requested"));
  let served: ModelSpec | undefined;
  let ttftMs: number | undefined;
  let stepText = ""; // text of the current step, to meter a step the provider did not
  const content = () => parts.filter((p) => p.type === "text").map((p) => p.text).join("");
  const changed = () => saver.update(parts, content(), served, ttftMs);
  const pending: Promise<void>[] = [];
  /** Meters every provider call of this reply as `step` (chat, title, summary). */
  const metered = (step: string) => (a: AttemptRecord) => {
    const usage = { ...a.usage };
    if (a.status !== "ok" && a.ttftMs !== null && usage.outputTokens === 0) {
      usage.outputTokens = estimateTokens(stepText); // cut short before the provider reported usage
    }
    pending.push(recordUsage({
      requestId: plan.requestId,
      userId: plan.userId,
      conversationId: plan.conversationId,
      messageId: step === "chat" ? plan.assistantId : null,
      productStep: step,
      provider: a.provider,
      model: a.model,
      providerModel: a.providerModel,
      attempt: a.attempt,
      status: a.status,
      usage,
      latencyMs: a.latencyMs,
      ttftMs: a.ttftMs,
      errorType: a.errorKind,
      errorMessage: a.errorMessage,
    }));
  };

  emit({ type: "start", messageId: plan.assistantId, conversationId: plan.conversationId });
  if (plan.notice) emit({ type: "notice", ...plan.notice });
  const title = plan.titleFrom === null ? null : writeTitle(plan, plan.titleFrom, metered("title"))
    .then((t) => t && emit({ type: "title", title: t }))
    .catch((e) =>
      log("warn", "title not written", { conversation_id: plan.conversationId, error: String(e) })
    );

  // Each passage used (mentioned document, search hit, document read) is cited once.
  const cited = new Set<string>();
  const cite = (c: Citation) => {
    if (cited.has(citationKey(c))) return;
    cited.add(citationKey(c));
    parts.push({
      type: "citation",
      document_id: c.documentId,
      chunk_index: c.chunkIndex,
      title: c.title,
      snippet: c.snippet,
      ...(c.url ? { url: c.url } : {}),
    });
    emit({ type: "citation", citation: c });
    changed();
  };

  let status: "complete" | "error" | "aborted" = "complete";
  let finish: FinishReason = "stop";
  let failure: { code: string; message: string } | null = null;
  try {
    const mentioned = mentionsPrompt(
      plan.mentions,
      plan.chain[0],
      plan.settings.contextBudgetRatio,
    );
    mentioned.citations.forEach(cite);
    const context = await buildContext({
      system: plan.system + mentioned.prompt,
      history: plan.history,
      summary: plan.summary,
      spec: plan.chain[0],
      budgetRatio: plan.settings.contextBudgetRatio,
      summarize: (previous, turns) => summarize(plan, previous, turns, metered("summary")),
    });
    if (context.newSummary) {
      await sql`update public.conversations set summary = ${context.newSummary.text},
                summary_through_id = ${context.newSummary.throughId} where id = ${plan.conversationId}`;
    }
    const messages: LlmMessage[] = [...context.messages];
    const toolContext: ToolContext = {
      claims: plan.claims,
      timezone: plan.timezone,
      requestId: plan.requestId,
      cite,
    };
    const tools = plan.chain[0].capabilities?.tools ? chatTools : [];

    for (let step = 1;; step++) {
      emit({ type: "step-start" });
      stepText = "";
      let textPart: { type: "text"; text: string } | null = null;
      let reasoningPart: { type: "reasoning"; text: string } | null = null;
      const calls: { id: string; name: string; input: unknown }[] = [];
      const partId = (kind: string) => `${kind}-${step}-${parts.length}`;
      let textId = "";
      let reasoningId = "";
      const stream = streamChat(served ? [served] : plan.chain, {
        system: context.system,
        messages,
        tools: tools.map((t) => t.spec),
        maxOutputTokens: Math.min(plan.chain[0].maxOutputTokens, 8192),
        signal: abort.signal,
        timeoutMs: ATTEMPT_TIMEOUT_MS,
      }, { onAttempt: metered("chat") });

      let stepFinish: LlmFinishReason = "stop";
      for await (const event of stream) {
        served ??= stream.model;
        ttftMs ??= Math.round(performance.now() - plan.startedAt);
        if (event.type === "text") {
          if (!textPart) {
            textPart = { type: "text", text: "" };
            textId = partId("text");
            parts.push(textPart);
          }
          textPart.text += event.delta;
          stepText += event.delta;
          emit({ type: "text-delta", id: textId, delta: event.delta });
        } else if (event.type === "reasoning") {
          if (!reasoningPart) {
            reasoningPart = { type: "reasoning", text: "" };
            reasoningId = partId("reasoning");
            parts.push(reasoningPart);
          }
          reasoningPart.text += event.delta;
          emit({ type: "reasoning-delta", id: reasoningId, delta: event.delta });
        } else if (event.type === "tool_call_start") {
          emit({ type: "tool-input-start", toolCallId: event.id, toolName: event.name });
        } else if (event.type === "tool_call_delta") {
          emit({ type: "tool-input-delta", toolCallId: event.id, delta: event.delta });
        } else if (event.type === "tool_call") {
          calls.push(event);
          parts.push({ type: "tool_call", id: event.id, name: event.name, input: event.input });
          emit({
            type: "tool-input-available",
            toolCallId: event.id,
            toolName: event.name,
            input: event.input,
          });
        } else if (event.type === "finish") {
          stepFinish = event.reason;
        }
        changed();
      }
      if (reasoningPart) emit({ type: "reasoning-end", id: reasoningId });
      if (textPart) emit({ type: "text-end", id: textId });
      emit({ type: "step-finish" });
      finish = FINISH[stepFinish];
      if (stepFinish !== "tool_calls" || calls.length === 0 || step >= plan.settings.maxToolSteps) {
        break;
      }

      // Run the tools the model asked for, then give it their results.
      const results: LlmPart[] = [];
      for (const call of calls) {
        const result = await runTool(tools, call, toolContext);
        parts.push(result);
        emit(
          result.is_error
            ? {
              type: "tool-output-error",
              toolCallId: call.id,
              errorText: JSON.stringify(result.output),
            }
            : { type: "tool-output-available", toolCallId: call.id, output: result.output },
        );
        results.push({
          type: "tool_result",
          toolCallId: call.id,
          output: result.output,
          isError: result.is_error,
        });
      }
      changed();
      messages.push(
        {
          role: "assistant",
          content: [
            ...(stepText ? [{ type: "text" as const, text: stepText }] : []),
            ...calls.map((c) => ({ type: "tool_call" as const, ...c })),
          ],
        },
        { role: "tool", content: results },
      );
    }
  } catch (e) {
    const err = e instanceof LlmError ? e : null;
    if (err?.kind === "aborted" || abort.signal.aborted) {
      status = "aborted";
      finish = "other";
    } else {
      status = "error";
      finish = "error";
      failure = { code: err?.kind ?? "internal", message: err ? err.message : "The reply failed" };
      if (!err) log("error", "reply failed", { message_id: plan.assistantId, error: String(e) });
      parts.push({ type: "error", ...failure });
    }
  }

  await saver.stop();
  await Promise.all(pending);
  await sql`select private.finish_message(${plan.assistantId}, ${status}, ${
    jsonb(parts)
  }, ${content()},
            ${finish}, ${Math.round(performance.now() - plan.startedAt)}, ${failure?.code ?? null},
            ${failure ? jsonb(failure) : null})`;
  if (title) await withTimeout(title, TITLE_WAIT_MS);
  if (status === "aborted") emit({ type: "abort", reason: "stopped" });
  else if (failure) emit({ type: "error", ...failure });
  else emit({ type: "finish", messageId: plan.assistantId, finishReason: finish });
}

/** Runs one tool call; a failure is a result the model sees (`is_error`), not a failed reply. */
async function runTool(
  tools: Tool[],
  call: { id: string; name: string; input: unknown },
  ctx: ToolContext,
): Promise<Extract<Part, { type: "tool_result" }>> {
  const started = performance.now();
  let output: unknown;
  let isError = false;
  try {
    const tool = tools.find((t) => t.spec.name === call.name);
    if (!tool) throw new Error(`unknown tool ${call.name}`);
    output = await tool.run(call.input, ctx);
  } catch (e) {
    output = { error: e instanceof Error ? e.message : String(e) };
    isError = true;
  }
  const duration = Math.round(performance.now() - started);
  return {
    type: "tool_result",
    tool_call_id: call.id,
    name: call.name,
    output,
    is_error: isError,
    duration_ms: duration,
  };
}

async function withTimeout(promise: Promise<unknown>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
