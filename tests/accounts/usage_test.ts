// GET /usage: the caller's tokens and cost by day, model and product step. The totals equal the
// sum of the ledger rows, and the costs match prices applied by hand to a known token mix with
// cached, cache-write and reasoning tokens. The models are the test's own, with their own prices.
import assert from "node:assert/strict";
import { chatUser, readSse, withDb } from "../_support/chat.ts";
import { testModel } from "./helpers.ts";

const fake = (script: unknown) => `[[fake ${JSON.stringify(script)}]]`;

Deno.test("usage totals equal the ledger and the prices applied by hand, by day, model and step", async () => {
  const alice = await chatUser("usage");
  // USD per million tokens (= micro-USD per token).
  const gptPrice = { input: 2, output: 10, cachedRead: 0.5, cacheWrite: 4, reasoning: 20 };
  const claudePrice = { input: 3, output: 15, cachedRead: 0.3, cacheWrite: 3.75, reasoning: null };
  const gpt = await testModel("openai", gptPrice);
  const claude = await testModel("anthropic", claudePrice);

  // A title is set, so no title call is metered besides the replies.
  const c1 = await alice.createConversation({ title: "usage", model: gpt });
  await readSse(
    await alice.send(c1, {
      content: `think hard ${
        fake({
          usage: {
            input_tokens: 2000,
            cached_tokens: 500,
            output_tokens: 900,
            reasoning_tokens: 400,
          },
        })
      }`,
    }),
  );
  const c2 = await alice.createConversation({ title: "usage", model: claude });
  await readSse(
    await alice.send(c2, {
      content: `cache it ${
        fake({
          usage: {
            input_tokens: 1200,
            cached_tokens: 5000,
            cache_creation_tokens: 800,
            output_tokens: 300,
          },
        })
      }`,
    }),
  );

  // OpenAI reports prompt tokens including cached ones; they are stored apart. Reasoning tokens
  // are part of the output and billed at the reasoning price.
  const gptCost = (2000 - 500) * 2 + 500 * 0.5 + (900 - 400) * 10 + 400 * 20;
  const claudeCost = 1200 * 3 + 5000 * 0.3 + 800 * 3.75 + 300 * 15;
  assert.equal(gptCost, 16_250);
  assert.equal(claudeCost, 12_600);

  const ledger = await withDb((sql) =>
    sql`select model, product_step, input_tokens, output_tokens, cached_read_tokens, cache_write_tokens,
               reasoning_tokens, cost_micro_usd::int as cost
        from public.usage_ledger where user_id = ${alice.userId} order by model`
  );
  assert.deepEqual(
    ledger.map((r) => ({ ...r })),
    [
      {
        model: claude,
        product_step: "chat",
        input_tokens: 1200,
        output_tokens: 300,
        cached_read_tokens: 5000,
        cache_write_tokens: 800,
        reasoning_tokens: 0,
        cost: claudeCost,
      },
      {
        model: gpt,
        product_step: "chat",
        input_tokens: 1500,
        output_tokens: 900,
        cached_read_tokens: 500,
        cache_write_tokens: 0,
        reasoning_tokens: 400,
        cost: gptCost,
      },
    ].sort((a, b) => a.model.localeCompare(b.model)),
  );

  const res = await alice.api("/usage");
  assert.equal(res.status, 200);
  const u = res.body;
  const today = new Date().toISOString().slice(0, 10);
  assert.equal(u.to, today);
  assert.equal(u.from, `${today.slice(0, 8)}01`);
  const sum = (k: string) => ledger.reduce((n, r) => n + Number(r[k]), 0);
  assert.deepEqual(u.totals, {
    calls: 2,
    input_tokens: sum("input_tokens"),
    output_tokens: sum("output_tokens"),
    cached_read_tokens: sum("cached_read_tokens"),
    cache_write_tokens: sum("cache_write_tokens"),
    reasoning_tokens: sum("reasoning_tokens"),
    cost_micro_usd: gptCost + claudeCost,
    cost_usd: (gptCost + claudeCost) / 1e6,
  });
  assert.deepEqual(
    u.by_day.map((d: { day: string; cost_micro_usd: number }) => [d.day, d.cost_micro_usd]),
    [[today, gptCost + claudeCost]],
  );
  assert.deepEqual(
    u.by_model.map((
      m: { model: string; cost_micro_usd: number; reasoning_tokens: number },
    ) => [m.model, m.cost_micro_usd, m.reasoning_tokens]),
    [
      [gpt, gptCost, 400],
      [claude, claudeCost, 0],
    ],
  );
  assert.deepEqual(
    u.by_step.map((
      s: { product: string; product_step: string; calls: number },
    ) => [s.product, s.product_step, s.calls]),
    [["chat", "chat", 2]],
  );
  assert.equal(u.budget.spent_usd, (gptCost + claudeCost) / 1e6);
  assert.equal(u.budget.state, "ok");

  // A period without usage is empty; the conversation totals agree with the ledger too.
  const past = await alice.api("/usage?from=2020-01-01&to=2020-01-31");
  assert.equal(past.body.totals.cost_micro_usd, 0);
  assert.deepEqual(past.body.by_day, []);
  const conv = await alice.api(`/conversations/${c1}`);
  assert.equal(conv.body.usage.cost_usd, gptCost / 1e6);
});

Deno.test("GET /usage validates its period", async () => {
  const alice = await chatUser("usage");
  for (
    const q of [
      "from=2026-13-01",
      "from=yesterday",
      "to=2026-01-01&from=2026-02-01",
      "from=2020-01-01&to=2026-01-01",
      "unknown=1",
    ]
  ) {
    const res = await alice.api(`/usage?${q}`);
    assert.equal(res.status, 400, q);
    assert.equal(res.body.error.code, "invalid_request");
  }
});
