import assert from "node:assert/strict";
import { call, env, FUNCTIONS_URL, newUser } from "../_support/stack.ts";

Deno.test("health reports the database, the applied migrations, providers and version, and no secrets", async () => {
  const { token } = await newUser("health");
  const res = await call(`${FUNCTIONS_URL}/health`, { token });
  assert.equal(res.status, 200);
  const newest = [...Deno.readDirSync("supabase/migrations")].map((f) => f.name.split("_")[0])
    .sort().at(-1);
  assert.equal(res.body.status, "ok");
  assert.equal(res.body.database.reachable, true);
  assert.equal(res.body.database.migration_version, newest);
  assert.equal(
    res.body.database.migrations_applied,
    Deno.readDirSync("supabase/migrations").toArray().length,
  );
  // npm test runs without provider keys, so both providers are the local fakes.
  assert.deepEqual(res.body.providers, { openai: "fake", anthropic: "fake" });
  assert.match(res.body.version, /^\d+\.\d+\.\d+$/);
  for (
    const secret of [
      env.SUPABASE_SERVICE_ROLE_KEY,
      env.SUPABASE_ANON_KEY,
      "fake-openai-key",
      "fake-anthropic-key",
      "postgresql://",
    ]
  ) {
    assert.ok(!res.text.includes(secret), "health must not reveal secrets");
  }
});
