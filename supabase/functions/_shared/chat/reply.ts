// Generating one assistant reply: stream it from the model chain, run the tools it calls, save
// it as it goes, meter every provider call, and end the message in a final state whatever
// happens. It runs in the background (EdgeRuntime.waitUntil), so a client that goes away does
// not stop it; a stop request from any instance does, through the database.
//
// generate() reads top to bottom: open the reply, answer (context, then model steps with tools
// between them), finish. Each step is one streamed model call whose events become message parts
// through ReplyParts (parts.ts), the same code that replays them.
import { jsonb, type JwtClaims, sql } from "../db.ts";
import { log } from "../http.ts";
import { LlmError } from "../llm/errors.ts";
import { streamChat } from "../llm/stream.ts";
import type { FinishReason, LlmMessage, LlmPart, ModelSpec } from "../llm/types.ts";
import { type Tool, type ToolContext, ToolError } from "../tool.ts";
import { ReplyEvents } from "./broadcast.ts";
import { type AttachmentReader, withFiles } from "./attachments.ts";
import { buildContext, type HistoryMessage, type StoredSummary } from "./context.ts";
import { estimateTokens, type Meter, meter } from "./ledger.ts";
import { type MentionedDocument, mentionsPrompt } from "./mentions.ts";
import type { ChatSettings } from "./models.ts";
import { type PartOf, ReplyParts } from "./parts.ts";
import { ProgressSaver } from "./progress.ts";
import { chatTools } from "./tools.ts";
import { summarize, writeTitle } from "./utility.ts";

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
  /** The caller's Authorization header: tools store files in Storage as the user. */
  authorization?: string;
  /** Documents @mentioned in the message: their text goes into the model's context. */
  mentions: MentionedDocument[];
  /** Told to the user right after `start`, e.g. that a cheaper model answers (budget). */
  notice?: { code: string; message: string };
  /** Reads the history's attachments as the user (set by the route; without it they are described). */
  readAttachment?: AttachmentReader;
  startedAt: number;
}

const ATTEMPT_TIMEOUT_MS = Number(Deno.env.get("AIDE_LLM_TIMEOUT_MS") ?? 120_000);
const TITLE_WAIT_MS = 10_000;
const MAX_STEP_OUTPUT_TOKENS = 8192;

/** A reply being generated: its plan, its parts so far, and what is needed to end it. */
interface Run {
  plan: ReplyPlan;
  reply: ReplyParts;
  saver: ProgressSaver;
  abort: AbortController;
  /** The model that answered the first step; later steps use it alone. */
  served?: ModelSpec;
  ttftMs?: number;
  /** Text of the current step, to meter a step the provider did not. */
  stepText: string;
  /** Ledger writes in flight. */
  metering: Promise<void>[];
  /** Set once the reply's events are all sent. */
  closed: boolean;
}

type Outcome =
  | { status: "complete"; finish: FinishReason }
  | { status: "aborted" }
  | { status: "error"; failure: { code: string; message: string } };

/** Starts the reply in the background and returns its events. */
export function startReply(plan: ReplyPlan): { events: ReplyEvents; done: Promise<void> } {
  const events = new ReplyEvents({
    messageId: plan.assistantId,
    userId: plan.userId,
    conversationId: plan.conversationId,
  });
  const done = generate(plan, events).catch((e) => {
    log("error", "reply failed unexpectedly", { message_id: plan.assistantId, error: String(e) });
  }).finally(() => events.close());
  return { events, done };
}

async function generate(plan: ReplyPlan, events: ReplyEvents) {
  const abort = new AbortController();
  events.onStop(() => abort.abort("stop requested"));
  const run: Run = {
    plan,
    reply: new ReplyParts((e) => events.push(e)),
    saver: new ProgressSaver(plan.assistantId, () => abort.abort("stop requested")),
    abort,
    stepText: "",
    metering: [],
    closed: false,
  };
  events.push({ type: "start", messageId: plan.assistantId, conversationId: plan.conversationId });
  if (plan.notice) run.reply.data({ type: "notice", ...plan.notice });
  const title = startTitle(run);
  const outcome = await answer(run);
  await finish(run, outcome, title);
  events.push(
    outcome.status === "aborted"
      ? { type: "abort", reason: "stopped" }
      : outcome.status === "error"
      ? { type: "error", ...outcome.failure }
      : { type: "finish", messageId: plan.assistantId, finishReason: outcome.finish },
  );
}

/** Meters every provider call of the reply as `step` (chat, title, summary): at its start and end. */
function metered(run: Run, step: string): Meter {
  return meter(
    {
      requestId: run.plan.requestId,
      userId: run.plan.userId,
      conversationId: run.plan.conversationId,
      messageId: step === "chat" ? run.plan.assistantId : null,
      productStep: step,
    },
    run.metering,
    () => estimateTokens(run.stepText),
  ); // cut short before usage was reported
}

const saveProgress = (run: Run) => run.saver.update(run.reply, run.served, run.ttftMs);

/** On a conversation's first exchange, the title, written alongside the reply. */
function startTitle(run: Run): Promise<void> | null {
  const { plan } = run;
  if (plan.titleFrom === null) return null;
  return writeTitle(plan, plan.titleFrom, metered(run, "title"))
    .then((title) => {
      if (title && !run.closed) run.reply.data({ type: "title", title });
    })
    .catch((e) =>
      log("warn", "title not written", { conversation_id: plan.conversationId, error: String(e) })
    );
}

/** The model's answer: its context, then steps, with the tools it calls run between them. */
async function answer(run: Run): Promise<Outcome> {
  const { plan, reply } = run;
  try {
    const { system, messages } = await modelContext(run);
    // Offered when a model of the chain can use them; the LLM layer leaves them out for one
    // that cannot (each attempt gets its own model's limits and capabilities).
    const tools = plan.chain.some((m) => m.capabilities?.tools) ? chatTools : [];
    const toolContext: Omit<ToolContext, "toolCallId"> = {
      claims: plan.claims,
      timezone: plan.timezone,
      requestId: plan.requestId,
      conversationId: plan.conversationId,
      messageId: plan.assistantId,
      authorization: plan.authorization,
      cite: (c) => (reply.cite(c), saveProgress(run)),
      artifact: (a, input) => (reply.artifact(a, input), saveProgress(run)),
    };
    for (let step = 1;; step++) {
      const { finish, text, calls } = await streamStep(run, { system, messages, tools });
      if (finish !== "tool-calls" || calls.length === 0 || step >= plan.settings.maxToolSteps) {
        reply.complete();
        return { status: "complete", finish };
      }
      messages.push(
        {
          role: "assistant",
          content: [
            ...(text ? [{ type: "text" as const, text }] : []),
            ...calls.map((c) => ({ type: "tool_call" as const, ...c })),
          ],
        },
        await runTools(run, calls, tools, toolContext),
      );
    }
  } catch (e) {
    const err = e instanceof LlmError ? e : null;
    if (err?.kind === "aborted" || run.abort.signal.aborted) {
      reply.interrupt();
      return { status: "aborted" };
    }
    if (!err) log("error", "reply failed", { message_id: plan.assistantId, error: String(e) });
    const failure = { code: err?.kind ?? "internal", message: err?.message ?? "The reply failed" };
    reply.interrupt(failure);
    return { status: "error", failure };
  }
}

/** System prompt and history (mentions cited, a new summary stored), fitting every model of the chain. */
async function modelContext(run: Run) {
  const { plan, reply } = run;
  // A fallback may have a smaller context window than the first model.
  const spec = {
    ...plan.chain[0],
    contextWindow: Math.min(...plan.chain.map((m) => m.contextWindow)),
  };
  const mentioned = mentionsPrompt(plan.mentions, spec, plan.settings.contextBudgetRatio);
  mentioned.citations.forEach((c) => reply.cite(c));
  const history = await withFiles(
    plan.history,
    plan.chain[0],
    plan.readAttachment,
    plan.settings.attachmentHistoryBytes,
  );
  const context = await buildContext({
    system: plan.system + mentioned.prompt,
    history,
    summary: plan.summary,
    spec,
    budgetRatio: plan.settings.contextBudgetRatio,
    maxMessages: plan.settings.historyMaxMessages,
    summarize: (previous, turns) => summarize(plan, previous, turns, metered(run, "summary")),
  });
  if (context.newSummary) {
    await sql`update public.conversations set summary = ${context.newSummary.text},
              summary_through_id = ${context.newSummary.throughId} where id = ${plan.conversationId}`;
  }
  return { system: context.system, messages: [...context.messages] };
}

type ToolCall = { id: string; name: string; input: unknown };

/** One model call, streamed into the reply's parts; what it asked for. */
async function streamStep(
  run: Run,
  req: { system: string; messages: LlmMessage[]; tools: Tool[] },
): Promise<{ finish: FinishReason; text: string; calls: ToolCall[] }> {
  const { plan, reply } = run;
  reply.stepStart();
  run.stepText = "";
  const calls: ToolCall[] = [];
  let finish: FinishReason = "stop";
  const stream = streamChat(run.served ? [run.served] : plan.chain, {
    system: req.system,
    messages: req.messages,
    tools: req.tools.map((t) => t.spec),
    maxOutputTokens: MAX_STEP_OUTPUT_TOKENS, // and each model's own cap (streamChat)
    signal: run.abort.signal,
    timeoutMs: ATTEMPT_TIMEOUT_MS,
  }, metered(run, "chat"));
  for await (const event of stream) {
    run.served ??= stream.model;
    run.ttftMs ??= Math.round(performance.now() - plan.startedAt);
    switch (event.type) {
      case "text":
        run.stepText += event.delta;
        reply.text(event.delta);
        break;
      case "reasoning":
        reply.reasoning(event.delta);
        break;
      case "tool_call_start":
        reply.toolInputStart(event.id, event.name);
        break;
      case "tool_call_delta":
        reply.toolInputDelta(event.id, event.delta);
        break;
      case "tool_call":
        calls.push(event);
        reply.toolCall(event);
        break;
      case "finish":
        finish = event.reason;
        break;
    }
    saveProgress(run);
  }
  reply.stepFinish();
  return { finish, text: run.stepText, calls };
}

/** Runs the tools the model asked for; their results, as the message the model reads next. */
async function runTools(
  run: Run,
  calls: ToolCall[],
  tools: Tool[],
  ctx: Omit<ToolContext, "toolCallId">,
): Promise<LlmMessage> {
  const results: LlmPart[] = [];
  for (const call of calls) {
    const result = await runTool(tools, call, { ...ctx, toolCallId: call.id });
    run.reply.toolResult(result);
    results.push({
      type: "tool_result",
      toolCallId: call.id,
      output: result.output,
      isError: result.is_error,
    });
  }
  saveProgress(run);
  return { role: "tool", content: results };
}

/** Runs one tool call; a failure is a result the model sees (`is_error`), not a failed reply. */
async function runTool(
  tools: Tool[],
  call: ToolCall,
  ctx: ToolContext,
): Promise<PartOf<"tool_result">> {
  const started = performance.now();
  let output: unknown;
  let isError = false;
  try {
    const tool = tools.find((t) => t.spec.name === call.name);
    if (!tool) throw new Error(`unknown tool ${call.name}`);
    output = await tool.run(call.input, ctx);
  } catch (e) {
    output = e instanceof ToolError
      ? {
        error: e.message,
        code: e.code,
        ...(e.details === undefined ? {} : { details: e.details }),
      }
      : { error: e instanceof Error ? e.message : String(e) };
    isError = true;
  }
  return {
    type: "tool_result",
    tool_call_id: call.id,
    name: call.name,
    output,
    is_error: isError,
    duration_ms: Math.round(performance.now() - started),
  };
}

/**
 * Ends the message: the last progress write and the ledger writes settle, then status, parts,
 * usage and latency are written in one transaction. A completed reply first gives its title a
 * moment to join the parts (so a replay sends it too); a stopped or failed one ends at once,
 * and a title that comes after is only sent.
 */
async function finish(run: Run, outcome: Outcome, title: Promise<void> | null) {
  const { plan, reply } = run;
  const titleWritten = () => title ? withTimeout(title, TITLE_WAIT_MS) : Promise.resolve();
  await run.saver.stop();
  if (outcome.status === "complete") await titleWritten();
  await Promise.all(run.metering); // the message's usage is summed from its ledger rows
  const failure = outcome.status === "error" ? outcome.failure : null;
  const finishReason: FinishReason = outcome.status === "complete"
    ? outcome.finish
    : outcome.status === "error"
    ? "error"
    : "other";
  await sql`select private.finish_message(${plan.assistantId}, ${outcome.status},
            ${jsonb(reply.parts)}, ${reply.content}, ${finishReason},
            ${Math.round(performance.now() - plan.startedAt)}, ${failure?.code ?? null},
            ${failure ? jsonb(failure) : null})`;
  if (outcome.status !== "complete") await titleWritten();
  run.closed = true;
  await Promise.all(run.metering);
}

async function withTimeout(promise: Promise<unknown>, ms: number) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}
