// Provider keys against the running stack: a model row pointing at another host gets no default
// key (its calls are refused before any request leaves), the database refuses base URLs that
// are not https (or http on loopback), whoever writes them, and nobody reads base_url or
// api_key_env through /rest/v1/models. GET /models says what the LLM layer would do.
import assert from "node:assert/strict";
import { chatUser, marker, providerRequests, readSse, withDb } from "../_support/chat.ts";
import { env, rest } from "../_support/stack.ts";

Deno.test("a model whose base_url is another host gets no default key: no request leaves, /models says not configured", async () => {
  const alice = await chatUser("keys");
  const alias = `elsewhere-${marker()}`;
  const compatible = `compat-${marker()}`;
  // The same fake server, under another host name: the default key must not go there.
  const elsewhere = env.AIDE_FAKE_OPENAI_URL.replace("127.0.0.1", "localhost");
  await withDb(async (sql) => {
    await sql`insert into public.models (alias, provider, provider_model, base_url, display_name,
                                         context_window, max_output_tokens)
              values (${alias}, 'openai', 'gpt-5.2', ${elsewhere}, 'Elsewhere', 8000, 500),
                     (${compatible}, 'openai_compatible', 'llama', null, 'Compatible', 8000, 500)`;
  });
  try {
    const models = await alice.api("/models");
    const configured = (a: string) =>
      models.body.models.find((m: { id: string }) => m.id === a)?.provider_configured;
    assert.equal(configured(alias), false);
    assert.equal(configured(compatible), false, "openai_compatible borrows the OpenAI key");
    assert.equal(configured("gpt-5.2"), true);

    const word = marker("leak");
    const conversationId = await alice.createConversation({ title: "keys" });
    const res = await alice.send(conversationId, { content: `hello ${word}`, model: alias });
    const body = res.status === 200 ? JSON.stringify(await readSse(res)) : await res.text();
    assert.notEqual(res.status, 200, `the reply went through: ${body.slice(0, 200)}`);
    assert.equal(res.status, 503, body);
    assert.equal((await providerRequests("openai", word)).length, 0, "a request reached the host");
  } finally {
    await withDb((sql) => sql`delete from public.models where alias in (${alias}, ${compatible})`);
  }
});

Deno.test("the database refuses a base_url that is not https or loopback http; base_url and api_key_env are unreadable through /rest/v1", async () => {
  const admin = await chatUser("keys-admin");
  const user = await chatUser("keys-user");
  await withDb((sql) => sql`update public.profiles set role = 'admin' where id = ${admin.userId}`);
  const alias = `rest-${marker()}`;
  const model = (base_url: string) =>
    JSON.stringify({
      alias,
      provider: "openai",
      provider_model: "x",
      display_name: "x",
      context_window: 1000,
      max_output_tokens: 100,
      base_url,
    });
  const post = (base_url: string) =>
    rest(admin.token, "/models", {
      method: "POST",
      body: model(base_url),
      headers: { prefer: "return=minimal" },
    });
  for (const url of ["http://collector.evil.test/v1", "ftp://x", "http://127.0.0.1.evil.test/v1"]) {
    const r = await post(url);
    assert.equal(r.status, 400, `${url}: ${r.status} ${r.text}`);
  }
  await withDb(async (sql) => {
    assert.equal((await sql`select 1 from public.models where alias = ${alias}`).length, 0);
  });
  const ok = await post("https://llm.example.com/v1");
  assert.equal(ok.status, 201, ok.text);
  try {
    for (const who of [user, admin]) {
      for (const column of ["base_url", "api_key_env", "*"]) {
        const r = await rest(who.token, `/models?select=${column}&alias=eq.${alias}`);
        assert.ok([401, 403].includes(r.status), `${column} readable: ${r.status} ${r.text}`);
      }
    }
    const named = await rest(admin.token, `/models?select=alias,provider&alias=eq.${alias}`);
    assert.deepEqual(named.body, [{ alias, provider: "openai" }]);
    // Admins read them through the admin function.
    const listed = await admin.api("/admin/models");
    const row = listed.body.models.find((m: { alias: string }) => m.alias === alias);
    assert.equal(row.base_url, "https://llm.example.com/v1");
  } finally {
    await withDb((sql) => sql`delete from public.models where alias = ${alias}`);
  }
});
