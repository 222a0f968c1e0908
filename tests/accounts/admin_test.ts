// Admin views and the model registry: admin rights come from profiles.role and are enforced by
// RLS, so a normal user reads no one else's usage and changes no model or price, through the
// API or PostgREST. Admins see every user, manage models, and add prices; past usage keeps the
// price it was charged at.
import assert from "node:assert/strict";
import { chatUser, readSse, withDb } from "../_support/chat.ts";
import { rest } from "../_support/stack.ts";
import { adminUser, testModel } from "./helpers.ts";

const spend = (userId: string, model: string, microUsd: number, day = "now()") =>
  withDb((sql) =>
    sql.unsafe(
      `insert into public.usage_ledger (call_id, user_id, product_step, provider, model, provider_model, status,
                                        input_tokens, output_tokens, cost_micro_usd, created_at)
       values ($1, $2, 'chat', 'openai', $3, $3, 'ok', 100, 50, $4, ${day})`,
      [crypto.randomUUID(), userId, model, microUsd],
    )
  );

Deno.test("a normal user cannot read another user's usage or any admin view, through the API or PostgREST", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  await spend(alice.userId, "gpt-5.2", 1234);
  await readSse(await alice.send(await alice.createConversation(), { content: "hello" }));

  for (
    const path of [
      "/usage/admin/top-users",
      "/usage/admin/by-model?period=week",
      "/usage/admin/users",
      "/admin/models",
      "/admin/models/gpt-5.2/prices",
    ]
  ) {
    const res = await bob.api(path);
    assert.equal(res.status, 403, `${path}: ${res.status}`);
    assert.equal(res.body.error.code, "forbidden");
  }
  const writes: [string, string, unknown][] = [
    ["POST", "/admin/models", {
      alias: "bobs-model",
      provider: "openai",
      provider_model: "x",
      display_name: "x",
      context_window: 1000,
      max_output_tokens: 100,
    }],
    ["PATCH", "/admin/models/gpt-5.2", { enabled: false }],
    ["POST", "/admin/models/gpt-5.2/prices", {
      input_per_mtok: 0,
      output_per_mtok: 0,
      cached_read_per_mtok: 0,
      cache_write_per_mtok: 0,
    }],
  ];
  for (const [method, path, json] of writes) {
    const res = await bob.api(path, { method, json });
    assert.equal(res.status, 403, `${method} ${path}: ${res.status}`);
  }
  // Bob's own usage shows only his (empty) usage.
  const own = await bob.api("/usage");
  assert.equal(own.body.totals.calls, 0);

  // PostgREST: RLS hides other users' rows and refuses writes to the registry.
  for (
    const path of [
      `/usage_daily?user_id=eq.${alice.userId}`,
      `/usage_ledger?user_id=eq.${alice.userId}`,
      `/profiles?id=eq.${alice.userId}`,
      `/rate_limit_counters?user_id=eq.${alice.userId}`,
    ]
  ) {
    const res = await rest(bob.token, path);
    assert.equal(res.status, 200, path);
    assert.deepEqual(res.body, [], `bob reads ${path}`);
    assert.ok((await rest(alice.token, path)).body.length > 0, `alice cannot read her own ${path}`);
  }
  const insertModel = await rest(bob.token, "/models", {
    method: "POST",
    body: JSON.stringify({
      alias: "bobs-model",
      provider: "openai",
      provider_model: "x",
      display_name: "x",
      context_window: 1000,
      max_output_tokens: 100,
    }),
  });
  assert.equal(insertModel.status, 403);
  const insertPrice = await rest(bob.token, "/model_prices", {
    method: "POST",
    body: JSON.stringify({
      model_alias: "gpt-5.2",
      effective_from: new Date().toISOString(),
      input_per_mtok: 0,
      output_per_mtok: 0,
      cached_read_per_mtok: 0,
      cache_write_per_mtok: 0,
    }),
  });
  assert.equal(insertPrice.status, 403);
  // (return=minimal: nobody may read base_url and api_key_env, so `*` cannot come back.)
  const disable = await rest(bob.token, "/models?alias=eq.gpt-5.2", {
    method: "PATCH",
    body: JSON.stringify({ enabled: false }),
    headers: { prefer: "return=minimal" },
  });
  assert.equal(disable.status, 204, disable.text); // no row is bob's to update
  const promote = await rest(bob.token, `/profiles?id=eq.${bob.userId}`, {
    method: "PATCH",
    body: JSON.stringify({ role: "admin" }),
  });
  assert.ok(
    promote.status === 401 || promote.status === 403,
    `bob promoted himself: ${promote.status}`,
  );
  const budget = await rest(bob.token, `/profiles?id=eq.${bob.userId}`, {
    method: "PATCH",
    body: JSON.stringify({ monthly_budget_usd: 1000000, rate_limits: {} }),
  });
  assert.ok(
    budget.status === 401 || budget.status === 403,
    `bob raised his own budget: ${budget.status}`,
  );

  await withDb(async (sql) => {
    const [m] = await sql`select enabled from public.models where alias = 'gpt-5.2'`;
    assert.equal(m.enabled, true);
    assert.equal((await sql`select 1 from public.models where alias = 'bobs-model'`).length, 0);
    const [p] =
      await sql`select role, monthly_budget_usd from public.profiles where id = ${bob.userId}`;
    assert.deepEqual({ ...p }, { role: "user", monthly_budget_usd: null });
  });
});

Deno.test("admins see every user's usage: top users, cost by model and period, all users; RLS lets them read it directly", async () => {
  const admin = await adminUser();
  const alice = await chatUser("alice");
  const model = await testModel("openai", {
    input: 1,
    output: 1,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: null,
  });
  // More than anyone has spent this month, to be on top.
  const [{ top: most }] = await withDb((sql) =>
    sql`select coalesce(max(s), 0)::bigint as top from (
          select sum(cost_micro_usd) as s from public.usage_daily
          where day >= date_trunc('month', now() at time zone 'UTC')::date group by user_id) t`
  );
  const today = Number(most) + 900_000_000;
  await spend(alice.userId, model, today);
  await spend(alice.userId, model, 100_000_000, "now() - interval '1 day'");

  const top = await admin.api("/usage/admin/top-users?limit=5");
  assert.equal(top.status, 200);
  assert.equal(top.body.users[0].user_id, alice.userId);
  assert.equal(top.body.users[0].email, alice.email);
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  const expectedMonth = today +
    (yesterday.slice(0, 7) === new Date().toISOString().slice(0, 7) ? 100_000_000 : 0);
  assert.equal(top.body.users[0].cost_micro_usd, expectedMonth);

  const byDay = await admin.api("/usage/admin/by-model?period=day");
  const mine = byDay.body.rows.filter((r: { model: string }) => r.model === model);
  assert.deepEqual(
    mine.map((
      r: { period_start: string; cost_micro_usd: number; users: number },
    ) => [r.period_start, r.cost_micro_usd, r.users]),
    [
      [yesterday, 100_000_000, 1],
      [new Date().toISOString().slice(0, 10), today, 1],
    ],
  );
  const byMonth = await admin.api(`/usage/admin/by-model?period=month&from=${yesterday}`);
  assert.equal(byMonth.status, 200);
  assert.equal(
    byMonth.body.rows.filter((r: { model: string }) => r.model === model).reduce(
      (n: number, r: { cost_micro_usd: number }) => n + r.cost_micro_usd,
      0,
    ),
    today + 100_000_000,
  );

  // All users, page by page, each once.
  const seen: string[] = [];
  const order: string[] = [];
  let cursor: string | null = null;
  do {
    const page: {
      status: number;
      text: string;
      body: { users: { user_id: string; created_at: string }[]; next_cursor: string | null };
    } = await admin.api(`/usage/admin/users?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
    assert.equal(page.status, 200, page.text);
    // Oldest account first, across pages (created_at comes back in ms; ties are ordered by id in µs).
    for (const u of page.body.users) {
      const prev = order.at(-1);
      assert.ok(
        !prev || Date.parse(prev) <= Date.parse(u.created_at),
        `users out of order: ${prev} then ${u.created_at}`,
      );
      order.push(u.created_at);
    }
    seen.push(...page.body.users.map((u) => u.user_id));
    cursor = page.body.next_cursor;
  } while (cursor);
  assert.equal(new Set(seen).size, seen.length, "a user appears on two pages");
  assert.ok(seen.includes(alice.userId) && seen.includes(admin.userId));

  // RLS, not only the API: the admin reads Alice's rows through PostgREST.
  assert.ok((await rest(admin.token, `/usage_daily?user_id=eq.${alice.userId}`)).body.length >= 1);
  assert.equal(
    (await rest(admin.token, `/profiles?id=eq.${alice.userId}`)).body[0].email,
    alice.email,
  );
  // The admin's own /usage is still only theirs.
  assert.equal((await admin.api("/usage")).body.totals.calls, 0);
});

Deno.test("admins create, update and disable models and add prices; past usage keeps the price it was charged at", async () => {
  const admin = await adminUser();
  const alias = `admin-model-${crypto.randomUUID().slice(0, 8)}`;
  const created = await admin.api("/admin/models", {
    method: "POST",
    json: {
      alias,
      provider: "openai",
      provider_model: "gpt-5.2",
      display_name: "Admin's model",
      context_window: 100000,
      max_output_tokens: 4096,
      fallback: ["gpt-5.2"],
      price: {
        effective_from: "2020-01-01T00:00:00Z",
        input_per_mtok: 1,
        output_per_mtok: 2,
        cached_read_per_mtok: 0.1,
        cache_write_per_mtok: 0,
      },
    },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.current_price.input_per_mtok, 1);
  assert.equal(
    (await admin.api("/admin/models", {
      method: "POST",
      json: {
        alias,
        provider: "openai",
        provider_model: "x",
        display_name: "x",
        context_window: 1,
        max_output_tokens: 1,
      },
    })).status,
    409,
  );

  // A user chats with it at the first price.
  const alice = await chatUser("alice");
  const id = await alice.createConversation({ title: "priced", model: alias });
  const usage = { input_tokens: 1000, output_tokens: 100 };
  await readSse(await alice.send(id, { content: `one [[fake ${JSON.stringify({ usage })}]]` }));

  // A new price from now on; the next call is charged at it, the first keeps its cost.
  const price = await admin.api(`/admin/models/${alias}/prices`, {
    method: "POST",
    json: {
      input_per_mtok: 10,
      output_per_mtok: 20,
      cached_read_per_mtok: 1,
      cache_write_per_mtok: 0,
    },
  });
  assert.equal(price.status, 201, price.text);
  await readSse(await alice.send(id, { content: `two [[fake ${JSON.stringify({ usage })}]]` }));
  const costs = await withDb((sql) =>
    sql`select cost_micro_usd::int as cost from public.usage_ledger where conversation_id = ${id} order by id`
  );
  assert.deepEqual(costs.map((r) => r.cost), [1000 * 1 + 100 * 2, 1000 * 10 + 100 * 20]);
  const prices = await admin.api(`/admin/models/${alias}/prices`);
  assert.deepEqual(prices.body.prices.map((p: { input_per_mtok: number }) => p.input_per_mtok), [
    10,
    1,
  ]);
  const duplicate = await admin.api(`/admin/models/${alias}/prices`, {
    method: "POST",
    json: {
      effective_from: "2020-01-01T00:00:00Z",
      input_per_mtok: 5,
      output_per_mtok: 5,
      cached_read_per_mtok: 0,
      cache_write_per_mtok: 0,
    },
  });
  assert.equal(duplicate.status, 409);

  // Update, then disable: users can no longer pick it, admins still see it.
  const updated = await admin.api(`/admin/models/${alias}`, {
    method: "PATCH",
    json: { display_name: "Renamed", capabilities: { tools: true } },
  });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.body.display_name, "Renamed");
  assert.deepEqual(updated.body.capabilities, { tools: true });
  assert.equal(updated.body.fallback[0], "gpt-5.2", "a PATCH changed a field it was not given");
  assert.equal(
    (await admin.api(`/admin/models/${alias}`, { method: "PATCH", json: { enabled: false } })).body
      .enabled,
    false,
  );
  assert.ok(!(await alice.api("/models")).body.models.some((m: { id: string }) => m.id === alias));
  assert.equal(
    (await alice.api("/conversations", { method: "POST", json: { model: alias } })).status,
    422,
  );
  assert.ok(
    (await admin.api("/admin/models")).body.models.some((m: { alias: string; enabled: boolean }) =>
      m.alias === alias && !m.enabled
    ),
  );

  // No model may read a platform secret as its API key, whoever writes it.
  const secret = await admin.api(`/admin/models/${alias}`, {
    method: "PATCH",
    json: { api_key_env: "SUPABASE_SERVICE_ROLE_KEY" },
  });
  assert.equal(secret.status, 400);
  const direct = await rest(admin.token, `/models?alias=eq.${alias}`, {
    method: "PATCH",
    body: JSON.stringify({ api_key_env: "SUPABASE_SERVICE_ROLE_KEY" }),
    headers: { prefer: "return=minimal" },
  });
  assert.equal(
    direct.status,
    400,
    `PostgREST let an admin point a model at a platform secret: ${direct.status}`,
  );
  const [row] = await withDb((sql) =>
    sql`select api_key_env from public.models where alias = ${alias}`
  );
  assert.equal(row.api_key_env, null);
});
