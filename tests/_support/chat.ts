// Helpers for chat tests against the running stack: a small API client, SSE reading, and the
// fake providers' control routes (scripts and request log).
import assert from "node:assert/strict";
import type { LogEntry, Script } from "../../local/fakes/script.ts";
import { call, connect, env, FUNCTIONS_URL, newUser, until } from "./stack.ts";
export { until };

export const SONNET = "claude-sonnet-4-6";
export const GPT = "gpt-5.2";

/** A unique word to find a test's own requests in the shared fakes' log. */
export const marker = (label = "m") =>
  `${label}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

type Provider = "openai" | "anthropic";
const fakeBase = (p: Provider) =>
  new URL(p === "openai" ? env.AIDE_FAKE_OPENAI_URL : env.AIDE_FAKE_ANTHROPIC_URL).origin;

export async function queueScript(
  provider: Provider,
  script: Script,
  match: { model?: string; contains?: string },
  times = 1,
) {
  const res = await fetch(`${fakeBase(provider)}/__fake/scripts`, {
    method: "POST",
    body: JSON.stringify({ script, match, times }),
  });
  if (!res.ok) throw new Error(`queueing a script failed: ${res.status} ${await res.text()}`);
  await res.body?.cancel();
}

export async function providerRequests(provider: Provider, contains: string): Promise<LogEntry[]> {
  const res = await fetch(
    `${fakeBase(provider)}/__fake/requests?contains=${encodeURIComponent(contains)}`,
  );
  return await res.json();
}

/** Parses an SSE body into its `data:` payloads (JSON, or the raw string such as "[DONE]"). */
export async function readSse(res: Response): Promise<unknown[]> {
  const text = await res.text();
  return text.split("\n\n").map((frame) =>
    frame.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n")
  )
    .filter((data) => data !== "")
    .map((data) => {
      try {
        return JSON.parse(data);
      } catch {
        return data;
      }
    });
}

// deno-lint-ignore no-explicit-any
export type Chunk = Record<string, any>;

export interface ChatUser {
  userId: string;
  email: string;
  token: string;
  api(path: string, init?: RequestInit & { json?: unknown }): ReturnType<typeof call>;
  /** Sends a message and returns the raw streaming response (not yet read). */
  send(conversationId: string, body: unknown, query?: string): Promise<Response>;
  createConversation(body?: Record<string, unknown>): Promise<string>;
}

export async function chatUser(prefix = "chat"): Promise<ChatUser> {
  const u = await newUser(prefix);
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.json !== undefined) headers.set("content-type", "application/json");
    return call(`${FUNCTIONS_URL}${path}`, {
      ...init,
      headers,
      token: u.token,
      body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
    });
  };
  return {
    ...u,
    api,
    send: (conversationId, body, query = "") =>
      fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${u.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    async createConversation(body = { title: "test conversation" }) {
      const res = await api("/conversations", { method: "POST", json: body });
      if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
      return res.body.id;
    },
  };
}

/** Runs `fn` with a superuser connection to the test database. */
export async function withDb<T>(fn: (sql: ReturnType<typeof connect>) => Promise<T>): Promise<T> {
  const sql = connect();
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

export const textOf = (chunks: Chunk[]) =>
  chunks.filter((c) => c.type === "text-delta").map((c) => c.delta).join("");

/** Waits until the document's status is one of `statuses`; returns its row. */
export function documentStatus(id: string, statuses: string[], ms = 15_000) {
  return withDb((sql) =>
    until(
      `document ${id} to be ${statuses}`,
      () =>
        sql`select status, error, chunk_count from public.documents where id = ${id}`
          .then(([d]) => statuses.includes(d?.status) ? d : null),
      ms,
    )
  );
}

/** Creates a document through the API and waits until it is indexed; returns its id. */
export async function readyDocument(
  user: ChatUser,
  body: Record<string, unknown>,
): Promise<string> {
  const res = await user.api("/documents", { method: "POST", json: body });
  if (res.status !== 201) throw new Error(`document not created: ${res.status} ${res.text}`);
  await documentStatus(res.body.id, ["ready"]);
  return res.body.id;
}

/** A request that must be refused: method, path, JSON body (or undefined), expected status. */
export type RefusedCase = [method: string, path: string, json: unknown, status: number];

/** Sends each case as `user`; each must get its status and an error body {error: {code, message}}. */
export async function expectRefused(user: ChatUser, cases: RefusedCase[]) {
  for (const [method, path, json, status] of cases) {
    const res = await user.api(path, { method, json });
    const request = `${method} ${path} ${JSON.stringify(json)?.slice(0, 80)}`;
    assert.equal(res.status, status, `${request}: ${res.status} ${res.text.slice(0, 200)}`);
    assert.equal(typeof res.body.error?.code, "string", `${request}: not a JSON error`);
    assert.equal(typeof res.body.error?.message, "string", `${request}: no message`);
  }
}

/** A `[[fake ...]]` directive for a message: the fake provider replies `text`, this fast. */
export const fakeReply = (text: string, tokensPerSec?: number) =>
  `[[fake ${JSON.stringify({ text, ...(tokensPerSec ? { tokens_per_sec: tokensPerSec } : {}) })}]]`;
