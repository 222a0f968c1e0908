/**
 * Scripts tell the fake providers how to answer one request. This file holds
 * the script type, how a request finds its script (first match wins):
 *   1. header `x-fake-script: {...}`
 *   2. directive `[[fake {...}]]` in the last user message (never echoed)
 *   3. the queue filled by `POST /__fake/scripts`
 * plus the request log, the `/__fake/*` control routes and shared text/token helpers.
 */

/** How the fake answers a request. Every field is optional; `{}` is the default reply. */
export interface Script {
  /** Answer with this HTTP error (provider-shaped body) instead of a reply. */
  status?: number;
  /** Seconds for the Retry-After header of a `status` error (fractions allowed). */
  retry_after?: number;
  /** Wait before the response headers. */
  delay_ms?: number;
  /** Wait from the headers to the first token. */
  ttft_ms?: number;
  /** Pacing after the first token; 0 or absent = as fast as possible. */
  tokens_per_sec?: number;
  /** Reply text instead of the default reply. */
  text?: string;
  /** Reasoning: Anthropic thinking block (when the request enables thinking), OpenAI reasoning_content. */
  reasoning?: string;
  /** The reply calls these tools, after any text. String arguments are sent verbatim. */
  tool_calls?: ToolCallScript[];
  /** Mid-stream provider error after N text tokens (non-streaming: HTTP error). */
  error_after_tokens?: number;
  /** Provider error type for `error_after_tokens` (and the body of `status` errors). */
  error_type?: string;
  /** Abruptly close the connection after N text tokens (no terminating event). */
  drop_after_tokens?: number;
  /** Stop sending after N text tokens and hang until the client goes away (non-streaming: never answer). */
  stall_after_tokens?: number;
  /**
   * Send one event whose data is cut-off JSON after N text tokens, then carry on as if nothing
   * happened (non-streaming: a 200 whose body is not JSON).
   */
  malformed_after_tokens?: number;
  /** Override the reported usage. */
  usage?: ScriptUsage;
  /**
   * The provider ends the reply for its content policy: OpenAI finish_reason "content_filter",
   * Anthropic stop_reason "refusal".
   */
  content_filter?: boolean;
  /**
   * Structured output (see structured.ts): the first N ids the generated JSON cites are random
   * ones that appear nowhere in the prompt.
   */
  invent_ids?: number;
}

export interface ToolCallScript {
  id?: string;
  name: string;
  arguments: unknown;
}

export interface ScriptUsage {
  input_tokens?: number;
  output_tokens?: number;
  cached_tokens?: number;
  cache_creation_tokens?: number;
  reasoning_tokens?: number;
}

/** What a provider handler tells the control about one request. */
export interface RequestView {
  api: "openai" | "anthropic";
  path: string;
  model: string;
  stream: boolean;
  /** Every input text (system, messages, tool calls and results, embedding inputs). */
  texts: string[];
  /** Text of the last user message ("" if none), directive included. */
  lastUserText: string;
  /** Text of the first user message: what a structured answer cites (not a repair request). */
  firstUserText?: string;
}

/** One entry of the request log, as returned by `GET /__fake/requests`. */
export interface LogEntry {
  at: string;
  api: "openai" | "anthropic";
  path: string;
  model: string;
  stream: boolean;
  last_user_text: string;
  /** HTTP status answered; null while pending, 499 if the server closed first. */
  status: number | null;
  /** Mid-stream fault the script planned for this request, if any. */
  fault?: "error" | "drop" | "stall" | "malformed";
  /** The client went away before the streamed response was complete. */
  client_closed: boolean;
  /** Images, PDFs and text documents the request carried (files.ts). */
  files?: ReceivedFile[];
}

import type { ReceivedFile } from "./files.ts";

/** A script given in the header or a directive is not valid JSON; answered with a 400. */
export class ScriptError extends Error {}

interface QueueEntry {
  script: Script;
  match?: { model?: string; contains?: string };
  times: number;
}

const MAX_LOG = 10_000;
const MAX_SEARCH_CHARS = 16_000;

/**
 * Per-server state: the script queue, the request log, and a `closing` signal
 * that ends every pending wait when the server shuts down.
 */
export class FakeControl {
  #queue: QueueEntry[] = [];
  #log: { entry: LogEntry; search: string }[] = [];
  #closing = new AbortController();

  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  close(): void {
    this.#closing.abort(new DOMException("fake server closing", "AbortError"));
  }

  /**
   * Finds the script for a request: header, then directive (unless `directives`
   * is false, as for embedding inputs), then the first matching queue entry.
   */
  resolve(req: Request, view: RequestView, directives = true): Script {
    const header = req.headers.get("x-fake-script");
    if (header) return parseScript(header, "x-fake-script header");
    const directive = directives ? extractDirective(view.lastUserText).script : null;
    if (directive) return directive;
    const i = this.#queue.findIndex((q) => matches(q, view));
    if (i < 0) return {};
    const entry = this.#queue[i];
    if (--entry.times <= 0) this.#queue.splice(i, 1);
    return entry.script;
  }

  /** Adds a request to the log; the handler fills in `status` when it answers. */
  record(view: RequestView): LogEntry {
    const entry: LogEntry = {
      at: new Date().toISOString(),
      api: view.api,
      path: view.path,
      model: view.model,
      stream: view.stream,
      last_user_text: truncate(view.lastUserText, 200),
      status: null,
      client_closed: false,
    };
    this.#log.push({ entry, search: clipMiddle(view.texts.join("\n"), MAX_SEARCH_CHARS) });
    if (this.#log.length > MAX_LOG) this.#log.shift();
    return entry;
  }

  /** The `/__fake/*` control routes. */
  async handle(req: Request, url: URL): Promise<Response> {
    switch (`${req.method} ${url.pathname}`) {
      case "POST /__fake/scripts": {
        const body = await req.json().catch(() => null);
        const times = body?.times ?? 1;
        const validMatch = body?.match === undefined || isObject(body.match);
        if (!isObject(body?.script) || !validMatch || !Number.isInteger(times) || times < 1) {
          return json(
            { error: 'expected {"script": {...}, "match"?: {...}, "times"?: n >= 1}' },
            400,
          );
        }
        this.#queue.push({ script: body.script, match: body.match, times });
        return json({ queued: this.#queue.length }, 201);
      }
      case "GET /__fake/scripts":
        return json(this.#queue);
      case "DELETE /__fake/scripts":
        this.#queue = [];
        return json({ cleared: true });
      case "GET /__fake/requests": {
        const contains = url.searchParams.get("contains");
        const found = contains === null
          ? this.#log
          : this.#log.filter((r) => r.search.includes(contains));
        return json(found.map((r) => r.entry));
      }
      case "DELETE /__fake/requests":
        this.#log = [];
        return json({ cleared: true });
      default:
        await req.body?.cancel();
        return json({ error: `no fake control route ${req.method} ${url.pathname}` }, 404);
    }
  }
}

function matches(q: QueueEntry, view: RequestView): boolean {
  const { model, contains } = q.match ?? {};
  return (model === undefined || model === view.model) &&
    (contains === undefined || view.texts.some((t) => t.includes(contains)));
}

function parseScript(source: string, where: string): Script {
  let script: unknown;
  try {
    script = JSON.parse(source);
  } catch {
    throw new ScriptError(`invalid fake script JSON in ${where}`);
  }
  if (!isObject(script)) throw new ScriptError(`fake script in ${where} must be a JSON object`);
  return script as Script;
}

const DIRECTIVE = "[[fake";

/**
 * Finds a `[[fake {...}]]` directive and returns it with the text minus the
 * directive. The JSON may itself contain `]]`, so each `]]` is tried in turn.
 */
export function extractDirective(text: string): { script: Script | null; text: string } {
  const start = text.indexOf(DIRECTIVE);
  if (start < 0) return { script: null, text };
  for (let end = text.indexOf("]]", start); end >= 0; end = text.indexOf("]]", end + 1)) {
    const source = text.slice(start + DIRECTIVE.length, end);
    try {
      const script = parseScript(source, "[[fake ...]] directive");
      return { script, text: (text.slice(0, start) + text.slice(end + 2)).trim() };
    } catch {
      // not the closing brackets yet
    }
  }
  throw new ScriptError("unterminated or invalid [[fake ...]] directive");
}

// ---- text and token helpers -------------------------------------------------

/** Word-sized tokens: a word plus its trailing whitespace. Joining them gives the text back. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? [];
}

/** The usual rough estimate: one token per 4 characters. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Splits a string (tool-call arguments) into small fragments, as providers stream them. */
export function fragments(text: string, size = 8): string[] {
  return text.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];
}

/** Human-readable text of message content: a string, or an array of content blocks/parts. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map(textOf).filter(Boolean).join("\n");
  if (!isObject(content)) return "";
  if (typeof content.text === "string") return content.text;
  if (typeof content.thinking === "string") return content.thinking;
  if ("content" in content) return textOf(content.content); // tool_result
  if ("input" in content) return JSON.stringify(content.input); // tool_use
  return "";
}

/** The default reply: `Reply from <model>: <first words of the last user message>`. */
export function defaultReply(model: string, lastUserText: string): string {
  let text = lastUserText;
  try {
    text = extractDirective(lastUserText).text;
  } catch {
    // an invalid directive overridden by a header script: echo it as it is
  }
  const words = text.split(/\s+/).filter(Boolean).slice(0, 8);
  return `Reply from ${model}: ${words.join(" ")}`.trim();
}

/** What the fake will say, after applying the script and max_tokens. */
export interface Reply {
  reasoning: string[];
  text: string[];
  toolCalls: { id: string; name: string; arguments: string }[];
  /** max_tokens cut the reply short (tool calls are then dropped). */
  truncated: boolean;
  /** Ended by the provider's content policy. */
  contentFilter: boolean;
  usage: {
    input: number;
    output: number;
    cached: number;
    cacheCreation: number;
    reasoning: number;
  };
}

export function planReply(script: Script, opts: {
  defaultText: string;
  inputText: string;
  maxTokens?: number;
  /** Whether reasoning is emitted (and counted) at all. */
  withReasoning: boolean;
  newToolId: () => string;
}): Reply {
  const allReasoning = opts.withReasoning ? splitTokens(script.reasoning ?? "") : [];
  const allText = splitTokens(script.text ?? (script.tool_calls?.length ? "" : opts.defaultText));
  // Like the real APIs, reasoning counts against max_tokens.
  const budget = opts.maxTokens ?? Infinity;
  const reasoning = allReasoning.slice(0, budget);
  const text = allText.slice(0, Math.max(0, budget - reasoning.length));
  const truncated = reasoning.length + text.length < allReasoning.length + allText.length;
  const toolCalls = truncated ? [] : (script.tool_calls ?? []).map((call) => ({
    id: call.id ?? opts.newToolId(),
    name: call.name,
    arguments: typeof call.arguments === "string"
      ? call.arguments
      : JSON.stringify(call.arguments ?? {}),
  }));
  const toolTokens = toolCalls.reduce((n, c) => n + estimateTokens(c.name + c.arguments), 0);
  const u = script.usage ?? {};
  return {
    reasoning,
    text,
    toolCalls,
    truncated,
    contentFilter: script.content_filter === true,
    usage: {
      input: u.input_tokens ?? estimateTokens(opts.inputText),
      output: u.output_tokens ?? reasoning.length + text.length + toolTokens,
      cached: u.cached_tokens ?? 0,
      cacheCreation: u.cache_creation_tokens ?? 0,
      reasoning: u.reasoning_tokens ?? reasoning.length,
    },
  };
}

// ---- small utilities ----------------------------------------------------------

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers });
}

/** Random id in the providers' style, e.g. `randomId("msg_01", 22)`. */
export function randomId(prefix: string, length = 24): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return prefix + Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + "…";
}

/** Keeps the head and tail of long texts so the log stays bounded. */
function clipMiddle(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max / 2) + "\n" + text.slice(-max / 2);
}
