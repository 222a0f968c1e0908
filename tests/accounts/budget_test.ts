// Monthly budgets: below the soft limit the chosen model answers; past it the cheaper model
// answers and the stream says so; at the hard limit the send is refused with 402 before any
// provider is called. Each test user has its own budget (profiles.monthly_budget_usd).
import assert from "node:assert/strict";
import {
  chatUser,
  type Chunk,
  marker,
  providerRequests,
  readSse,
  SONNET,
  withDb,
} from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

/** Spend recorded this month for the user (a ledger row; the trigger rolls it up by day). */
const regenerate = (token: string, conversationId: string, messageId: string) =>
  fetch(`${FUNCTIONS_URL}/conversations/${conversationId}/messages/${messageId}/regenerate`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  });

const spend = (userId: string, microUsd: number) =>
  withDb((sql) =>
    sql`insert into public.usage_ledger (call_id, user_id, product_step, provider, model, provider_model, status, cost_micro_usd)
        values (${crypto.randomUUID()}, ${userId}, 'chat', 'anthropic', 'claude-sonnet-4.6', ${SONNET}, 'ok', ${microUsd})`
  );

Deno.test("budgets: the chosen model below the soft limit, the cheaper one with a notice past it, 402 at the hard limit", async () => {
  const alice = await chatUser("budget");
  await withDb((sql) =>
    sql`update public.profiles set monthly_budget_usd = 1.00 where id = ${alice.userId}`
  );
  const conversationId = await alice.createConversation({
    title: "budget",
    model: "claude-sonnet-4.6",
  });
  const downgrade = await withDb(async (sql) => {
    const [row] =
      await sql`select value #>> '{}' as model from public.app_settings where key = 'budget.downgrade_model'`;
    const [m] = await sql<{ provider: "openai" | "anthropic"; provider_model: string }[]>`
      select provider, provider_model from public.models where alias = ${row.model}`;
    return { alias: row.model as string, provider: m.provider, provider_model: m.provider_model };
  });
  const replyModel = () =>
    withDb((sql) =>
      sql`select model from public.messages where conversation_id = ${conversationId} and role = 'assistant' order by created_at desc limit 1`
    )
      .then(([m]) => m.model);

  // 1. Below the soft limit ($0.79 of $1.00, soft at 80%).
  await spend(alice.userId, 790_000);
  const below = marker("below");
  const chunks = await readSse(await alice.send(conversationId, { content: below })) as Chunk[];
  assert.equal(chunks.find((c) => c.type === "data-notice"), undefined);
  assert.equal(await replyModel(), "claude-sonnet-4.6");
  assert.equal((await providerRequests("anthropic", below))[0]?.model, SONNET);

  // 2. Past the soft limit: the cheaper model answers and the stream says so, right after start.
  await spend(alice.userId, 20_000);
  const soft = marker("soft");
  const softChunks = await readSse(await alice.send(conversationId, { content: soft })) as Chunk[];
  const noticeAt = softChunks.findIndex((c) => c.type === "data-notice");
  assert.ok(noticeAt > 0, `no notice in ${JSON.stringify(softChunks.map((c) => c.type))}`);
  assert.equal(softChunks[noticeAt - 1].type, "start");
  assert.equal(softChunks[noticeAt].data.code, "budget_downgrade");
  assert.match(softChunks[noticeAt].data.message, new RegExp(downgrade.alias));
  assert.equal(softChunks.at(-2)?.type, "finish");
  assert.equal(await replyModel(), downgrade.alias);
  const softCalls = await providerRequests(downgrade.provider, soft);
  assert.equal(softCalls.length, 1);
  assert.equal(softCalls[0].model, downgrade.provider_model);
  assert.equal(
    (await providerRequests("anthropic", soft)).length +
      (await providerRequests("openai", soft)).length,
    1,
  );
  // The conversation keeps the model the user chose.
  assert.equal(
    (await alice.api(`/conversations/${conversationId}`)).body.model,
    "claude-sonnet-4.6",
  );

  // The simple stream format carries the notice too, and so does regenerate.
  const simple = await readSse(
    await alice.send(conversationId, { content: marker("simple") }, "?stream=simple"),
  ) as Chunk[];
  assert.equal(simple.find((c) => c.type === "notice")?.code, "budget_downgrade");
  const leaf = (await alice.api(`/conversations/${conversationId}`)).body.active_leaf_id;
  const regenerated = await regenerate(alice.token, conversationId, leaf);
  assert.ok((await readSse(regenerated) as Chunk[]).some((c) => c.type === "data-notice"));

  // 3. At the hard limit: 402 before anything is stored or any provider is called.
  await spend(alice.userId, 200_000);
  const [before] = await withDb((sql) =>
    sql`select count(*)::int as n from public.messages where conversation_id = ${conversationId}`
  );
  const hard = marker("hard");
  const refused = await alice.send(conversationId, { content: hard });
  assert.equal(refused.status, 402);
  const body = await refused.json();
  assert.equal(body.error.code, "budget_exceeded");
  assert.match(body.error.message, /budget/);
  assert.equal(body.error.details.budget_usd, 1);
  const refusedAgain = await regenerate(alice.token, conversationId, leaf);
  assert.equal(refusedAgain.status, 402);
  assert.equal((await refusedAgain.json()).error.code, "budget_exceeded");
  const [after] = await withDb((sql) =>
    sql`select count(*)::int as n from public.messages where conversation_id = ${conversationId}`
  );
  assert.equal(after.n, before.n, "a refused send stored a message");
  assert.deepEqual(await providerRequests("anthropic", hard), []);
  assert.deepEqual(await providerRequests("openai", hard), []);

  // The budget status tells the client where it stands.
  const usage = await alice.api("/usage");
  assert.equal(usage.body.budget.state, "hard");
  assert.equal(usage.body.budget.budget_usd, 1);
  assert.ok(usage.body.budget.spent_usd >= 1.01);
});

Deno.test("without a per-user budget the default from app_settings applies; a budget of 0 blocks chat", async () => {
  const bob = await chatUser("budget");
  const [{ value }] = await withDb((sql) =>
    sql`select value from public.app_settings where key = 'budget.default_monthly_usd'`
  );
  const me = await bob.api("/account/me");
  assert.equal(me.body.budget.budget_usd, value);
  assert.equal(me.body.budget.state, "ok");

  await withDb((sql) =>
    sql`update public.profiles set monthly_budget_usd = 0 where id = ${bob.userId}`
  );
  const id = await bob.createConversation();
  const res = await bob.send(id, { content: marker("zero") });
  assert.equal(res.status, 402);
  await res.body?.cancel();
});
