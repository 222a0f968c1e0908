// The two ways the chat benchmarks stream a reply, timed the same way from the client:
//   - through Aide: POST /functions/v1/conversations/:id/messages with a user JWT (auth, rate
//     limit and budget gate, conversation locked, user message stored, assistant row created,
//     history read, then the provider call), reading the AI SDK UI message stream;
//   - direct: the same scripted reply asked of the fake Anthropic server with the official SDK,
//     as a client calling the provider itself would.
// Both get the fake's script: a fixed time to first token and a fixed token rate.
import Anthropic from "@anthropic-ai/sdk";
import type { Script } from "../local/fakes/script.ts";
import { issueUserToken } from "../local/token.ts";
import type { Bench } from "./lib.ts";

// The SDK warns on every request that this model is deprecated; the functions process logs the
// same line on every chat request. Keep the benchmark's own output readable.
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === "string" && args[0].startsWith("The model '")) return;
  warn(...args);
};

export const PROVIDER_MODEL = "claude-sonnet-4-6"; // what Aide's claude-sonnet-4.6 calls
export const MODEL_ALIAS = "claude-sonnet-4.6";

export interface StreamTiming {
  ok: boolean;
  error?: string;
  /** Milliseconds from the request to the response headers. */
  headersMs: number;
  /** To Aide's `start` chunk (Aide only): everything before the provider is called is done. */
  startMs: number | null;
  /** To the first text delta. */
  ttftMs: number | null;
  /** To the last text delta. */
  lastTokenMs: number | null;
  tokens: number;
  /** To the end of the stream. */
  totalMs: number;
}

export interface ChatSlot {
  userId: string;
  token: string;
  conversationId: string;
}

/**
 * `users` users with `perUser` conversations each (titled, so no title is generated). Rate
 * limits and budgets are raised for the bench stack in run.ts, and the load is spread over
 * many users anyway, as real traffic is.
 */
export async function chatSlots(b: Bench, users: number, perUser: number): Promise<ChatSlot[]> {
  const slots: ChatSlot[] = [];
  for (let u = 0; u < users; u++) {
    const { userId, token } = await issueUserToken(b.cfg, `bench-chat-${u}@example.com`, {
      sql: b.sql,
      expiresIn: 4 * 3600,
    });
    const rows = await b.sql<{ id: string }[]>`
      insert into public.conversations (user_id, title, model)
      select ${userId}, 'bench ' || i, ${MODEL_ALIAS} from generate_series(1, ${perUser}) i
      returning id`;
    for (const r of rows) slots.push({ userId, token, conversationId: r.id });
  }
  return slots;
}

export const directive = (script: Script) => `[[fake ${JSON.stringify(script)}]]`;

/** Called as the stream goes (for measurements taken at that instant). */
export interface StreamHooks {
  /** The `start` chunk: everything before the provider call is done. */
  onStart?: (messageId: string) => void;
  /** The first text delta. */
  onFirstToken?: () => void;
}

function emptyTiming(): StreamTiming {
  return {
    ok: false,
    headersMs: NaN,
    startMs: null,
    ttftMs: null,
    lastTokenMs: null,
    tokens: 0,
    totalMs: NaN,
  };
}

/** Sends a message through Aide and reads the whole streamed reply. */
export async function aideStream(
  b: Bench,
  slot: ChatSlot,
  script: Script,
  prompt = "Benchmark question",
  hooks: StreamHooks = {},
): Promise<StreamTiming> {
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  const timing = emptyTiming();
  try {
    const res = await fetch(`${b.functionsUrl}/conversations/${slot.conversationId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${slot.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content: `${directive(script)} ${prompt}` }),
    });
    timing.headersMs = since();
    if (res.status !== 200 || !res.body) {
      timing.error = `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`;
      return timing;
    }
    const decoder = new TextDecoder();
    let buffer = "";
    let finished = false;
    for await (const bytes of res.body) {
      buffer += decoder.decode(bytes, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!frame.startsWith("data: ")) continue; // pings are comments
        const data = frame.slice(6);
        if (data === "[DONE]") continue;
        // Cheap checks first: a text delta is by far the most common chunk.
        if (data.startsWith('{"type":"text-delta"')) {
          const at = since();
          if (timing.ttftMs === null) {
            timing.ttftMs = at;
            hooks.onFirstToken?.();
          }
          timing.lastTokenMs = at;
          timing.tokens++;
          continue;
        }
        const chunk = JSON.parse(data);
        if (chunk.type === "start" && timing.startMs === null) {
          timing.startMs = since();
          hooks.onStart?.(chunk.messageId);
        } else if (chunk.type === "finish") finished = true;
        else if (chunk.type === "error" || chunk.type === "abort") {
          timing.error = `${chunk.type}: ${chunk.errorText ?? chunk.reason ?? ""}`;
        }
      }
    }
    timing.ok = finished && !timing.error;
    if (!finished && !timing.error) timing.error = "stream ended without finish";
  } catch (e) {
    timing.error = String(e);
  } finally {
    timing.totalMs = since();
  }
  return timing;
}

let client: Anthropic | null = null;

/** The same scripted reply straight from the fake provider, with the official SDK. */
export async function directStream(b: Bench, script: Script): Promise<StreamTiming> {
  client ??= new Anthropic({ apiKey: "bench", baseURL: b.fakeAnthropicUrl, maxRetries: 0 });
  const t0 = performance.now();
  const since = () => performance.now() - t0;
  const timing = emptyTiming();
  try {
    const stream = await client.messages.create({
      model: PROVIDER_MODEL,
      max_tokens: 8192,
      messages: [{ role: "user", content: "Benchmark question" }],
      stream: true,
    }, { headers: { "x-fake-script": JSON.stringify(script) } });
    timing.headersMs = since();
    let stopped = false;
    for await (const event of stream) {
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
        const at = since();
        timing.ttftMs ??= at;
        timing.lastTokenMs = at;
        timing.tokens++;
      } else if (event.type === "message_stop") stopped = true;
    }
    timing.ok = stopped;
    if (!stopped) timing.error = "stream ended without message_stop";
  } catch (e) {
    timing.error = String(e);
  } finally {
    timing.totalMs = since();
  }
  return timing;
}

/** Tokens per second of one stream, first token to last (the pacing the client sees). */
export function tokensPerSecond(t: StreamTiming): number | null {
  if (t.tokens < 2 || t.ttftMs === null || t.lastTokenMs === null) return null;
  return ((t.tokens - 1) * 1000) / (t.lastTokenMs - t.ttftMs);
}

/** Starts `n` streams at once (or spread over `rampMs`) and waits for all of them. */
export function concurrently(
  n: number,
  start: (i: number) => Promise<StreamTiming>,
  rampMs = 0,
): Promise<StreamTiming[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => {
    if (rampMs > 0) await new Promise((r) => setTimeout(r, (rampMs * i) / n));
    return await start(i);
  }));
}

/** Follows a reply being generated (GET .../messages/:id/stream) to its end; ok if it finished. */
export async function followStream(b: Bench, slot: ChatSlot, messageId: string) {
  const res = await fetch(
    `${b.functionsUrl}/conversations/${slot.conversationId}/messages/${messageId}/stream`,
    { headers: { authorization: `Bearer ${slot.token}` } },
  );
  const text = await res.text();
  return res.status === 200 && text.includes('"type":"finish"');
}
