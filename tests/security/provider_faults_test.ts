// Provider faults, end to end through the chat endpoint, on both providers: HTTP 429/500/529
// before the first token, every model of the chain failing, an error event, a dropped connection
// and a malformed event after N tokens, a malformed event before the first, and stalls past the
// attempt timeout. After each, what SPEC 3.2 promises holds: the user's message is stored; the
// reply ends `complete` (retry or fallback before the first token) or `error` with the partial
// text kept (after it); the stream ends; every attempt is a row in usage_ledger; the message's
// and the conversation's totals are the sums of their ledger rows; and nothing hangs.
import assert from "node:assert/strict";
import {
  type ChatUser,
  chatUser,
  type Chunk,
  GPT,
  marker,
  queueScript,
  readSse,
  SONNET,
  textOf,
  withDb,
} from "../_support/chat.ts";
import { env, FUNCTIONS_URL } from "../_support/stack.ts";

type Provider = "anthropic" | "openai";
type LedgerRow = [model: string, status: string, errorType: string | null];

/** The per-attempt timeout of the stack's functions (10 s on the test stacks; see local/stack.ts). */
const ATTEMPT_TIMEOUT_MS = Number(env.AIDE_LLM_TIMEOUT_MS || 120_000);
/** Longest a reply may take here, beyond the time its faults are meant to take. */
const SLACK_MS = 20_000;

const CHAINS = {
  anthropic: {
    alias: "claude-sonnet-4.6",
    model: SONNET,
    fallback: "gpt-5.2",
    fallbackProvider: "openai",
  },
  openai: {
    alias: "gpt-5.2",
    model: GPT,
    fallback: "claude-sonnet-4.6",
    fallbackProvider: "anthropic",
  },
} as const;
const FALLBACK_MODEL = { anthropic: GPT, openai: SONNET };

const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel";
const FIRST_THREE = "alpha bravo charlie ";

interface Case {
  name: string;
  /** Queues the scripts for this provider's run and returns the message to send. */
  setup(p: Provider, tag: string): Promise<string> | string;
  status: "complete" | "error";
  /** The stored reply: exact text, or a pattern. */
  text: (p: Provider) => string | RegExp;
  ledger: (p: Provider) => LedgerRow[];
  /** How long the faults themselves take (stalls wait for the attempt timeout). */
  expectedMs?: number;
}

const queue = (
  p: Provider,
  tag: string,
  script: Record<string, unknown>,
  times = 1,
  model = CHAINS[p].model,
) => queueScript(p, script, { model, contains: tag }, times);
const directive = (tag: string, script: Record<string, unknown>) =>
  `${tag} [[fake ${JSON.stringify(script)}]]`;
const times = <T>(n: number, row: T): T[] => Array.from({ length: n }, () => row);
const replyFrom = (p: Provider) => new RegExp(`^Reply from ${CHAINS[p].model}`);

const CASES: Case[] = [
  {
    name: "HTTP 429 before the first token is retried",
    setup: async (
      p,
      tag,
    ) => (await queue(p, tag, { status: 429, retry_after: 0.05 }), `rate limited ${tag}`),
    status: "complete",
    text: replyFrom,
    ledger: (p) => [[CHAINS[p].alias, "error", "rate_limited"], [CHAINS[p].alias, "ok", null]],
  },
  {
    name: "HTTP 529 (overloaded) before the first token is retried",
    setup: async (
      p,
      tag,
    ) => (await queue(p, tag, { status: 529, retry_after: 0.05 }, 2), `overloaded ${tag}`),
    status: "complete",
    text: replyFrom,
    ledger: (
      p,
    ) => [...times(2, [CHAINS[p].alias, "error", "overloaded"] as LedgerRow), [
      CHAINS[p].alias,
      "ok",
      null,
    ]],
  },
  {
    name: "HTTP 500 on every retry falls back to the next model of the chain",
    setup: async (
      p,
      tag,
    ) => (await queue(p, tag, { status: 500, retry_after: 0.05 }, 3), `server error ${tag}`),
    status: "complete",
    text: (p) => new RegExp(`^Reply from ${FALLBACK_MODEL[p]}`),
    ledger: (
      p,
    ) => [...times(3, [CHAINS[p].alias, "error", "server_error"] as LedgerRow), [
      CHAINS[p].fallback,
      "ok",
      null,
    ]],
  },
  {
    name: "every model of the chain failing before the first token ends the reply in error",
    setup: async (p, tag) => {
      await queue(p, tag, { status: 429, retry_after: 0.05 }, 3);
      await queueScript(CHAINS[p].fallbackProvider, { status: 429, retry_after: 0.05 }, {
        model: FALLBACK_MODEL[p],
        contains: tag,
      }, 3);
      return `nobody answers ${tag}`;
    },
    status: "error",
    text: () => "",
    ledger: (p) => [
      ...times(3, [CHAINS[p].alias, "error", "rate_limited"] as LedgerRow),
      ...times(3, [CHAINS[p].fallback, "error", "rate_limited"] as LedgerRow),
    ],
  },
  {
    name: "an error event after 3 tokens ends the reply in error, partial text kept",
    setup: (_p, tag) => directive(tag, { text: WORDS, error_after_tokens: 3 }),
    status: "error",
    text: () => FIRST_THREE,
    ledger: (p) => [[CHAINS[p].alias, "error", p === "anthropic" ? "overloaded" : "server_error"]],
  },
  {
    name: "a dropped connection after 3 tokens ends the reply in error, partial text kept",
    setup: (_p, tag) => directive(tag, { text: WORDS, drop_after_tokens: 3 }),
    status: "error",
    text: () => FIRST_THREE,
    ledger: (p) => [[CHAINS[p].alias, "error", "network"]],
  },
  {
    name: "a malformed event after 3 tokens ends the reply in error, partial text kept",
    setup: (_p, tag) => directive(tag, { text: WORDS, malformed_after_tokens: 3 }),
    status: "error",
    text: () => FIRST_THREE,
    ledger: (p) => [[CHAINS[p].alias, "error", "network"]],
  },
  {
    name: "a malformed event before the first token is retried",
    setup: async (
      p,
      tag,
    ) => (await queue(p, tag, { malformed_after_tokens: 0 }), `malformed ${tag}`),
    status: "complete",
    text: replyFrom,
    ledger: (p) => [[CHAINS[p].alias, "error", "network"], [CHAINS[p].alias, "ok", null]],
  },
  {
    name: "a stall after 3 tokens times out: error, partial text kept",
    setup: (_p, tag) => directive(tag, { text: WORDS, stall_after_tokens: 3 }),
    status: "error",
    text: () => FIRST_THREE,
    ledger: (p) => [[CHAINS[p].alias, "error", "timeout"]],
    expectedMs: ATTEMPT_TIMEOUT_MS,
  },
  {
    name: "a stall before the first token times out and is retried",
    setup: async (p, tag) => (await queue(p, tag, { stall_after_tokens: 0 }), `stalled ${tag}`),
    status: "complete",
    text: replyFrom,
    ledger: (p) => [[CHAINS[p].alias, "error", "timeout"], [CHAINS[p].alias, "ok", null]],
    expectedMs: ATTEMPT_TIMEOUT_MS,
  },
];

/** Sends a message and reads the whole stream, or fails once `ms` have passed. */
async function sendWithin(user: ChatUser, conversationId: string, content: string, ms: number) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    const res = await fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ content }),
      signal: abort.signal,
    });
    assert.equal(res.status, 200, `send answered ${res.status}`);
    return await readSse(res) as Chunk[];
  } catch (e) {
    if (abort.signal.aborted) throw new Error(`the reply did not end within ${ms} ms (it hangs)`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

const TOTALS = [
  "input_tokens",
  "output_tokens",
  "cached_read_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "cost_micro_usd",
];
const sums = (rows: Record<string, unknown>[]) =>
  Object.fromEntries(TOTALS.map((k) => [k, rows.reduce((n, r) => n + Number(r[k]), 0)]));
const totals = (row: Record<string, unknown>) =>
  Object.fromEntries(TOTALS.map((k) => [k, Number(row[k])]));

async function runCase(c: Case, p: Provider, user: ChatUser) {
  const label = `${p}: ${c.name}`;
  const tag = marker("fault");
  const content = await c.setup(p, tag);
  const conversationId = await user.createConversation({
    title: "provider faults",
    model: CHAINS[p].alias,
  });
  const chunks = await sendWithin(user, conversationId, content, (c.expectedMs ?? 0) + SLACK_MS);

  // The stream ends, with the outcome it reports.
  assert.equal(chunks.at(-1), "[DONE]", `${label}: the stream did not end with [DONE]`);
  const last = chunks.at(-2) as Chunk;
  assert.equal(
    last?.type,
    c.status === "complete" ? "finish" : "error",
    `${label}: last chunk ${JSON.stringify(last)}`,
  );

  const { messages, ledger, conversation } = await withDb(async (sql) => ({
    messages:
      await sql`select id, role, status, content, parts, error_type, input_tokens, output_tokens,
                               cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_micro_usd
                        from public.messages where conversation_id = ${conversationId} order by created_at`,
    ledger:
      await sql`select message_id, model, attempt, status, error_type, input_tokens, output_tokens,
                             cached_read_tokens, cache_write_tokens, reasoning_tokens, cost_micro_usd
                      from public.usage_ledger where conversation_id = ${conversationId} order by attempt, id`,
    conversation: (await sql`select * from public.conversations where id = ${conversationId}`)[0],
  }));

  const users = messages.filter((m) => m.role === "user");
  assert.equal(users.length, 1, `${label}: user messages`);
  assert.equal(users[0].content, content, `${label}: the user's message is stored as sent`);
  const replies = messages.filter((m) => m.role === "assistant");
  assert.equal(replies.length, 1, `${label}: assistant messages`);
  const reply = replies[0];
  assert.equal(reply.status, c.status, `${label}: reply status (error_type ${reply.error_type})`);
  const text = c.text(p);
  if (typeof text === "string") assert.equal(reply.content, text, `${label}: stored text`);
  else assert.match(reply.content, text, `${label}: stored text`);
  if (c.status === "error") {
    assert.ok(reply.error_type, `${label}: no error_type`);
    assert.equal(reply.parts.at(-1)?.type, "error", `${label}: the last part is not the error`);
    if (text) assert.equal(textOf(chunks), text, `${label}: the partial text streamed`);
  }

  assert.deepEqual(
    ledger.filter((r) => r.message_id === reply.id).map((r) => [r.model, r.status, r.error_type]),
    c.ledger(p),
    `${label}: ledger rows (model, status, error type)`,
  );
  assert.deepEqual(
    totals(reply),
    sums(ledger.filter((r) => r.message_id === reply.id)),
    `${label}: message totals`,
  );
  assert.deepEqual(totals(conversation), sums(ledger), `${label}: conversation totals`);
  if (text) {
    const kept = ledger.find((r) =>
      r.message_id === reply.id && r.status !== "ok" && r.output_tokens > 0
    );
    if (c.status === "error") {
      assert.ok(kept, `${label}: the partial reply's tokens are not metered`);
    }
  }
}

/** Lets the user have this many replies in flight (chat.max_streams_per_user is 3). */
const allowStreams = (userId: string, n: number) =>
  withDb((sql) =>
    sql`update public.profiles set quotas = ${sql.json({ streams: n })} where id = ${userId}`
  );

for (const c of CASES.filter((c) => !c.expectedMs)) {
  Deno.test(`provider faults: ${c.name}`, async () => {
    const user = await chatUser("faults");
    await allowStreams(user.userId, 2 * stalls.length); // every case at once
    await Promise.all((["anthropic", "openai"] as const).map((p) => runCase(c, p, user)));
  });
}

// The stalls wait for the attempt timeout, so they run side by side, and only where the stack
// sets a short one.
const stalls = CASES.filter((c) => c.expectedMs);
Deno.test({
  name: `provider faults: ${stalls.map((c) => c.name).join("; ")}`,
  ignore: ATTEMPT_TIMEOUT_MS > 30_000,
  async fn() {
    const user = await chatUser("faults");
    await allowStreams(user.userId, 2 * stalls.length); // every case at once
    await Promise.all(
      stalls.flatMap((c) => (["anthropic", "openai"] as const).map((p) => runCase(c, p, user))),
    );
  },
});
