/** Shared helpers for the LLM layer tests: fake providers, model specs, scripts and logs. */
import { type Fakes, startFakes } from "../../local/fakes/server.ts";
import type { LogEntry, Script } from "../../local/fakes/script.ts";
import type {
  AttemptRecord,
  ChatStream,
  LlmError,
  LlmEvent,
  ModelSpec,
  StreamOptions,
} from "../../supabase/functions/_shared/llm/index.ts";

/** Specs name this variable instead of the real OPENAI/ANTHROPIC keys (env is process-wide). */
export const KEY_ENV = "AIDE_LLM_TEST_KEY";
Deno.env.set(KEY_ENV, "test-key");

export const CLAUDE = "claude-haiku-4-5";
export const GPT = "gpt-4o-mini";

export interface Ctx extends Fakes {
  claude: ModelSpec;
  gpt: ModelSpec;
}

/** A test with its own fake servers, closed afterwards; `claude` and `gpt` point at them. */
export function llmTest(name: string, fn: (ctx: Ctx) => Promise<void>): void {
  Deno.test(name, async () => {
    const fakes = await startFakes();
    try {
      await fn({
        ...fakes,
        claude: anthropicSpec(fakes.anthropicUrl),
        gpt: openaiSpec(fakes.openaiUrl),
      });
    } finally {
      await fakes.close();
    }
  });
}

export function anthropicSpec(baseUrl: string, extra: Partial<ModelSpec> = {}): ModelSpec {
  return {
    alias: "claude",
    provider: "anthropic",
    providerModel: CLAUDE,
    baseUrl,
    apiKeyEnv: KEY_ENV,
    contextWindow: 200_000,
    maxOutputTokens: 4096,
    ...extra,
  };
}

export function openaiSpec(baseUrl: string, extra: Partial<ModelSpec> = {}): ModelSpec {
  return {
    alias: "gpt",
    provider: "openai",
    providerModel: GPT,
    baseUrl,
    apiKeyEnv: KEY_ENV,
    contextWindow: 128_000,
    maxOutputTokens: 4096,
    ...extra,
  };
}

/** Retries without real waiting. */
export const FAST: StreamOptions["retry"] = { baseDelayMs: 1, maxDelayMs: 50 };

/** A user message carrying a fake script directive (stripped from the fake's default reply). */
export function scripted(text: string, script: Script): string {
  return `${text} [[fake ${JSON.stringify(script)}]]`;
}

export async function queueScript(
  baseUrl: string,
  entry: { script: Script; match?: { model?: string; contains?: string }; times?: number },
): Promise<void> {
  const res = await fetch(new URL("/__fake/scripts", baseUrl), {
    method: "POST",
    body: JSON.stringify(entry),
  });
  if (!res.ok) throw new Error(`queueScript: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

export async function requestLog(baseUrl: string, contains?: string): Promise<LogEntry[]> {
  const query = contains === undefined ? "" : `?contains=${encodeURIComponent(contains)}`;
  const res = await fetch(new URL(`/__fake/requests${query}`, baseUrl));
  return await res.json();
}

/** Everything a stream yielded, and the error that ended it, if any. */
export async function drain(stream: ChatStream): Promise<{
  events: LlmEvent[];
  text: string;
  error?: LlmError;
}> {
  const events: LlmEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
  } catch (error) {
    return { events, text: textOf(events), error: error as LlmError };
  }
  return { events, text: textOf(events) };
}

/** The stream's last event, which must be its finish. */
export function finishOf(events: LlmEvent[]): Extract<LlmEvent, { type: "finish" }> {
  const last = events.at(-1);
  if (last?.type !== "finish") throw new Error(`expected a finish event last, got ${last?.type}`);
  return last;
}

export function textOf(events: LlmEvent[]): string {
  return events.map((e) => e.type === "text" ? e.delta : "").join("");
}

/** Collects attempt records; pass `recorder.onAttempt` to streamChat. */
export function recorder() {
  const records: AttemptRecord[] = [];
  return { records, onAttempt: (r: AttemptRecord) => void records.push(r) };
}

/**
 * An HTTP proxy in front of a fake that keeps every JSON request body, to check the exact
 * wire format the SDKs send. Point a spec's baseUrl at `url` (+ "/v1" for OpenAI).
 */
export function captureProxy(target: string) {
  const bodies: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (body) bodies.push(JSON.parse(body));
    const { pathname, search } = new URL(req.url);
    const headers = new Headers(req.headers);
    headers.delete("host");
    headers.delete("content-length");
    return await fetch(new URL(pathname + search, target), {
      method: req.method,
      headers,
      body: body || undefined,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    bodies,
    close: () => server.shutdown(),
  };
}

export { within } from "../fakes/helpers.ts";
