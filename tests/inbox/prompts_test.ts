/**
 * POST /prompts end to end against the fakes: the seed's two example prompts and their shapes,
 * citations only of the caller's events in the window, statistics counted exactly, summaries
 * reused, invented ids dropped, the caller's context winning, metering per step, the stream.
 */
import assert from "node:assert/strict";
import { marker, queueScript, readSse, withDb } from "../_support/chat.ts";
import { WORKSPACES } from "./fixtures/workspaces.ts";
import { inboxUser, insertMessages, postPrompt, streamPrompt, workspaceUser } from "./helpers.ts";

const dana = WORKSPACES[0];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The inbox's ledger rows of a user: step -> calls. */
async function stepsOf(userId: string): Promise<Record<string, number>> {
  const rows = await withDb((sql) =>
    sql`select product_step, count(*)::int as n from public.usage_ledger
        where user_id = ${userId} and product = 'inbox' group by product_step`
  );
  return Object.fromEntries(rows.map((r) => [r.product_step, r.n]));
}

/** The fixture events inside [start, end), by the minutes they were inserted at. */
function expectedInWindow(
  ws: typeof dana,
  now: Date,
  range: { start: string; end: string },
  sources?: string[],
) {
  const start = Date.parse(range.start);
  const end = Date.parse(range.end);
  return ws.events.filter((e) => {
    const t = now.getTime() - e.minutesAgo * 60_000;
    return t >= start && t < end && (!sources || sources.includes(e.source));
  });
}

Deno.test("summarize last 2 hours: the seed's shape, exact statistics, only the caller's events in the window", async () => {
  const now = new Date();
  const user = await workspaceUser(dana, now);
  const other = await workspaceUser(dana, now); // same texts, another user: never cited
  const res = await postPrompt(user, { prompt: "summarize last 2 hours" });
  assert.equal(res.status, 200, res.text);
  const { prompt_id, intent, response } = res.body;
  assert.match(prompt_id, UUID);
  assert.equal(intent, "summarize");
  assert.match(response.summary_id, UUID);
  const span = Date.parse(response.time_range.end) - Date.parse(response.time_range.start);
  assert.equal(span, 2 * 3_600_000);
  assert.deepEqual(Object.keys(response.content).sort(), [
    "key_events",
    "overview",
    "statistics",
    "themes",
  ]);

  const inside = expectedInWindow(dana, now, response.time_range);
  assert.deepEqual(response.content.statistics, {
    total_events: inside.length,
    by_source: {
      slack: inside.filter((e) => e.source === "slack").length,
      outlook: inside.filter((e) => e.source === "outlook").length,
      telegram: 0,
    },
  });
  assert.equal(inside.length, 4);
  const mine = new Map(inside.map((e) => [user.events[e.key], e]));
  assert.ok(response.content.key_events.length > 0);
  for (const k of response.content.key_events) {
    const e = mine.get(k.event_id);
    assert.ok(e, `${k.event_id} is not one of the caller's events in the window`);
    assert.equal(k.source, e.source);
    assert.ok(!Object.values(other.events).includes(k.event_id));
  }

  const [stored] = await withDb((sql) =>
    sql`select s.user_id, s.content_json, s.source_refs, p.status, p.intent, p.window_from
        from public.summaries s join public.prompts p on p.summary_id = s.id
        where s.id = ${response.summary_id} and p.id = ${prompt_id}`
  );
  assert.equal(stored.user_id, user.userId);
  assert.deepEqual(stored.content_json, response.content);
  assert.deepEqual(
    stored.source_refs,
    response.content.key_events.map((k: { event_id: string; source: string }) => ({
      type: "event",
      id: k.event_id,
      source: k.source,
    })),
  );
  assert.deepEqual([stored.status, stored.intent, stored.window_from], [
    "complete",
    "summarize",
    "prompt",
  ]);
  assert.deepEqual(await stepsOf(user.userId), { "prompts.router": 1, "prompts.summary": 1 });
  const record = await user.api(`/prompts/${prompt_id}`);
  assert.equal(record.status, 200, record.text);
  assert.deepEqual(
    [record.body.status, record.body.intent, record.body.summary_id, record.body.window_from],
    ["complete", "summarize", response.summary_id, "prompt"],
  );
  assert.deepEqual(record.body.response, response);
  assert.equal((await other.api(`/prompts/${prompt_id}`)).status, 404);

  // The same prompt over the same events: the stored summary, no summary call.
  const again = await postPrompt(user, { prompt: "summarize last 2 hours" });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.response.summary_id, response.summary_id);
  assert.equal(again.body.response.reused, true);
  assert.deepEqual(await stepsOf(user.userId), { "prompts.router": 2, "prompts.summary": 1 });
});

Deno.test("invented key_event ids are asked about again, then dropped, never stored", async () => {
  const user = await workspaceUser(dana);
  // Both the summary call and the one that asks again cite two ids that exist nowhere.
  await queueScript("openai", { invent_ids: 2 }, { contains: user.events.launch_review }, 2);
  const res = await postPrompt(user, {
    prompt: "summarize last 2 hours",
    context: { intent: "summarize" },
  });
  assert.equal(res.status, 200, res.text);
  const ids = res.body.response.content.key_events.map((k: { event_id: string }) => k.event_id);
  const mine = new Set(Object.values(user.events));
  assert.ok(ids.length >= 1 && ids.every((id: string) => mine.has(id)), JSON.stringify(ids));
  const [s] = await withDb((sql) =>
    sql`select meta, source_refs from public.summaries where id = ${res.body.response.summary_id}`
  );
  assert.equal(s.meta.dropped_citations, 2);
  assert.ok(s.source_refs.every((r: { id: string }) => mine.has(r.id)));
  assert.deepEqual(await stepsOf(user.userId), { "prompts.summary": 2 });
});

Deno.test("the caller's context wins: intent, sources and window given, no router call", async () => {
  const now = new Date();
  const user = await workspaceUser(dana, now);
  const time_window = {
    start: new Date(now.getTime() - 6 * 3_600_000).toISOString(),
    end: now.toISOString(),
  };
  const res = await postPrompt(user, {
    prompt: "summarize last 2 hours",
    context: { intent: "summarize", sources: ["outlook", "telegram"], time_window },
  });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.response.time_range, {
    start: time_window.start,
    end: time_window.end,
  });
  const inside = expectedInWindow(dana, now, time_window, ["outlook", "telegram"]);
  assert.equal(res.body.response.content.statistics.total_events, inside.length);
  assert.equal(res.body.response.content.statistics.by_source.slack, 0);
  assert.deepEqual(await stepsOf(user.userId), { "prompts.summary": 1 });
});

Deno.test("an empty window is summarized without a model call", async () => {
  const user = await inboxUser("Europe/Paris");
  const res = await postPrompt(user, { prompt: "summarize", context: { intent: "summarize" } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.response.content.statistics, {
    total_events: 0,
    by_source: { slack: 0, outlook: 0, telegram: 0 },
  });
  assert.deepEqual(res.body.response.content.key_events, []);
  assert.deepEqual(await stepsOf(user.userId), {});
});

Deno.test("a 2,000-message window is summarized in parts within the token budget, then merged", async () => {
  const user = await inboxUser("UTC");
  await insertMessages(user.userId, 2000, 600);
  const res = await postPrompt(user, { prompt: "summarize the last 12 hours" });
  assert.equal(res.status, 200, res.text);
  const { content, summary_id } = res.body.response;
  assert.equal(content.statistics.total_events, 2000);
  const [s] = await withDb((sql) =>
    sql`select meta from public.summaries where id = ${summary_id}`
  );
  const steps = await stepsOf(user.userId);
  assert.ok(s.meta.parts > 1, `parts: ${s.meta.parts}`);
  assert.equal(steps["prompts.summary"], s.meta.parts);
  assert.equal(steps["prompts.summary_merge"], 1);
  assert.ok(s.meta.events_summarized <= 2000 && s.meta.events_summarized > 0);
  // No call read more than a part's budget (12,000 tokens of events) plus the instructions.
  const calls = await withDb((sql) =>
    sql`select input_tokens from public.usage_ledger
        where user_id = ${user.userId} and product_step = 'prompts.summary'`
  );
  for (const c of calls) assert.ok(c.input_tokens <= 12_000 + 1_500, `input ${c.input_tokens}`);
  const ids = await withDb((sql) =>
    sql`select count(*)::int as n from public.events
        where user_id = ${user.userId} and id = any(${
      content.key_events.map((k: { event_id: string }) => k.event_id)
    }::uuid[])`
  );
  assert.equal(ids[0].n, content.key_events.length);
});

Deno.test("Accept: text/event-stream streams the work as UI message chunks with data parts", async () => {
  const user = await workspaceUser(dana);
  const res = await streamPrompt(user, { prompt: "summarize last 2 hours" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-vercel-ai-ui-message-stream"), "v1");
  const chunks = await readSse(res) as { type: string; data?: Record<string, unknown> }[];
  const types = chunks.map((c) => (typeof c === "string" ? c : c.type));
  assert.equal(types[0], "start");
  assert.equal(types[1], "data-prompt");
  assert.ok(types.includes("data-progress"));
  assert.deepEqual(types.slice(-3), ["data-summarize", "finish", "[DONE]"]);
  const result = chunks.find((c) => c.type === "data-summarize")!.data!;
  assert.equal(result.intent, "summarize");
  const [p] = await withDb((sql) =>
    sql`select status, summary_id from public.prompts where id = ${String(result.prompt_id)}`
  );
  assert.equal(p.status, "complete");
  assert.equal(p.summary_id, (result.response as { summary_id: string }).summary_id);
});

Deno.test("budget and rate limit apply before anything is stored or called", async () => {
  const user = await workspaceUser(dana);
  await withDb((sql) =>
    sql`update public.profiles set monthly_budget_usd = 0,
          rate_limits = '{"prompts": {"requests": 2, "window_seconds": 600}}' where id = ${user.userId}`
  );
  const broke = await postPrompt(user, { prompt: "summarize last 2 hours" });
  assert.equal(broke.status, 402, broke.text);
  assert.equal(broke.body.error.code, "budget_exceeded");

  // The refused request counted against the rate limit: one more is allowed.
  await withDb((sql) =>
    sql`update public.profiles set monthly_budget_usd = null where id = ${user.userId}`
  );
  assert.equal(
    (await postPrompt(user, { prompt: "summarize", context: { intent: "summarize" } })).status,
    200,
  );
  const limited = await postPrompt(user, { prompt: "summarize", context: { intent: "summarize" } });
  assert.equal(limited.status, 429, limited.text);
  assert.ok(Number(limited.headers.get("retry-after")) > 0);
  const [n] = await withDb((sql) =>
    sql`select count(*)::int as n from public.prompts where user_id = ${user.userId}`
  );
  assert.equal(n.n, 1);
});

Deno.test("providers down: 503, the prompt recorded as failed, every attempt metered; the stream ends with an error", async () => {
  const user = await workspaceUser(dana);
  const text = `summarize last 2 hours ${marker("down")}`;
  for (const provider of ["openai", "anthropic"] as const) {
    await queueScript(provider, { status: 500 }, { contains: text }, 20);
  }
  const res = await postPrompt(user, { prompt: text });
  assert.equal(res.status, 503, res.text);
  assert.equal(res.body.error.code, "provider_unavailable");
  const [p] = await withDb((sql) =>
    sql`select status, error, summary_id from public.prompts where user_id = ${user.userId}`
  );
  assert.deepEqual([p.status, p.error.code, p.summary_id], ["error", "provider_unavailable", null]);
  const attempts = await withDb((sql) =>
    sql`select status, product_step from public.usage_ledger
        where user_id = ${user.userId} and product = 'inbox'`
  );
  assert.ok(attempts.length >= 2, "retries and the fallback model are metered");
  assert.ok(
    attempts.every((a) => a.status === "error" && a.product_step === "prompts.router"),
    JSON.stringify(attempts),
  );

  const streamed = await streamPrompt(user, { prompt: text });
  const chunks = await readSse(streamed) as { type: string; errorText?: string }[];
  assert.deepEqual(chunks.slice(-2).map((c) => typeof c === "string" ? c : c.type), [
    "error",
    "[DONE]",
  ]);
  assert.match(chunks.at(-2)!.errorText!, /unavailable/);
});
