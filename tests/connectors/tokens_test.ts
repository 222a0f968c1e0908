// Tokens at rest (_shared/connectors/tokens.ts): AES-256-GCM ciphertext in the v1 format, bound
// to its row (table, id, user, column), and the rotation job moving rows to the current key.
// The test stacks hold two keys (k0 retired, k1 current): rows written here under k0 are
// re-encrypted by the connectors function's scheduled tick.
import assert from "node:assert/strict";
import { connect, env, newUser } from "../_support/stack.ts";
import { tick, withStackEnv } from "./helpers.ts";

const tokens = await withStackEnv(() =>
  import("../../supabase/functions/_shared/connectors/tokens.ts")
);
const { sql: fnSql } = await import("../../supabase/functions/_shared/db.ts");

Deno.test("tokens: the v1 format decrypts only for its own table, row, user and column", async () => {
  const slot = {
    table: "oauth_tokens",
    rowId: crypto.randomUUID(),
    userId: crypto.randomUUID(),
    column: "access_token_enc",
  };
  const sealed = await tokens.encryptToken("xoxb-secret-value", slot);
  const [format, kid, iv, ct] = sealed.split(".");
  assert.deepEqual([format, kid], ["v1", env.AIDE_TOKEN_KEY_ID]);
  assert.equal(iv.length, 16, "12-byte IV, base64url");
  assert.ok(!sealed.includes("secret-value"));
  assert.notEqual(
    await tokens.encryptToken("xoxb-secret-value", slot),
    sealed,
    "a fresh IV each time",
  );
  assert.equal(await tokens.decryptToken(sealed, slot), "xoxb-secret-value");
  for (
    const other of [{ rowId: crypto.randomUUID() }, { userId: crypto.randomUUID() }, {
      column: "refresh_token_enc",
    }, { table: "notes" }]
  ) {
    await assert.rejects(
      tokens.decryptToken(sealed, { ...slot, ...other }),
      /does not decrypt for this row/,
    );
  }
  const flipped = `${format}.${kid}.${iv}.${ct.slice(0, -2)}${ct.at(-2) === "A" ? "B" : "A"}${
    ct.at(-1)
  }`;
  await assert.rejects(tokens.decryptToken(flipped, slot), /does not decrypt/);
  await assert.rejects(tokens.decryptToken(`v1.nokey.${iv}.${ct}`, slot), /not in AIDE_TOKEN_KEYS/);
});

Deno.test("tokens: a ciphertext copied into another account's row does not decrypt there", async () => {
  const sql = connect();
  try {
    const alice = await newUser("tokens");
    const mallory = await newUser("tokens");
    const account = async (userId: string) => {
      const [a] =
        await sql`insert into public.linked_accounts (user_id, provider, provider_account_id)
                            values (${userId}, 'slack', ${crypto.randomUUID()}) returning id, user_id`;
      return a as { id: string; user_id: string };
    };
    const a = await account(alice.userId);
    const m = await account(mallory.userId);
    await tokens.storeTokens(fnSql, a, { accessToken: "xoxb-alice", tokenType: "bot" });
    await tokens.storeTokens(fnSql, m, { accessToken: "xoxb-mallory", tokenType: "bot" });
    assert.equal(await tokens.accessToken(a.id), "xoxb-alice");
    const [row] =
      await sql`select access_token_enc, token_fingerprint from public.oauth_tokens where linked_account_id = ${a.id}`;
    assert.ok(!JSON.stringify(row).includes("xoxb-alice"));
    await sql`update public.oauth_tokens set access_token_enc = ${row.access_token_enc} where linked_account_id = ${m.id}`;
    await assert.rejects(tokens.accessToken(m.id), /does not decrypt for this row/);
  } finally {
    await sql.end();
  }
});

Deno.test("tokens: the rotation job re-encrypts every row under an older key, in batches", async () => {
  const sql = connect();
  try {
    assert.ok(JSON.parse(env.AIDE_TOKEN_KEYS).k0, "the test stack carries the retired key k0");
    const user = await newUser("tokens");
    const accounts: { id: string; user_id: string }[] = [];
    Deno.env.set("AIDE_TOKEN_KEY_ID", "k0");
    try {
      for (let i = 0; i < 5; i++) {
        const [a] =
          await sql`insert into public.linked_accounts (user_id, provider, provider_account_id)
                              values (${user.userId}, 'outlook', ${crypto.randomUUID()}) returning id, user_id`;
        accounts.push(a as { id: string; user_id: string });
        await tokens.storeTokens(fnSql, a as { id: string; user_id: string }, {
          accessToken: `access-${i}`,
          refreshToken: `refresh-${i}`,
          expiresAt: new Date(Date.now() + 3600_000),
        });
      }
    } finally {
      Deno.env.set("AIDE_TOKEN_KEY_ID", env.AIDE_TOKEN_KEY_ID);
    }
    const before = await sql`select key_id from public.oauth_tokens where user_id = ${user.userId}`;
    assert.deepEqual(before.map((r) => r.key_id), ["k0", "k0", "k0", "k0", "k0"]);

    const res = await tick({ jobs: ["token_rotation"] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.token_rotation.remaining, 0);
    assert.equal(res.body.token_rotation.failed, 0);
    const [left] =
      await sql`select count(*)::int as n from public.oauth_tokens where key_id <> ${env.AIDE_TOKEN_KEY_ID}`;
    assert.equal(left.n, 0, "every row of the database is under the current key");
    const after =
      await sql`select access_token_enc, refresh_token_enc from public.oauth_tokens where user_id = ${user.userId}`;
    for (const r of after) {
      assert.match(r.access_token_enc, /^v1\.k1\./);
      assert.match(r.refresh_token_enc, /^v1\.k1\./);
    }
    for (const [i, a] of accounts.entries()) {
      assert.deepEqual(await tokens.readTokens(a.id), {
        accessToken: `access-${i}`,
        refreshToken: `refresh-${i}`,
        expiresAt:
          (await sql`select expires_at from public.oauth_tokens where linked_account_id = ${a.id}`)[
            0
          ].expires_at,
      });
    }
  } finally {
    await sql.end();
  }
});

Deno.test("tokens: no API role can read oauth_tokens, not even the owner", async () => {
  const sql = connect();
  try {
    const tables =
      await sql`select grantee, privilege_type from information_schema.role_table_grants
                             where table_schema = 'public' and table_name = 'oauth_tokens'
                               and grantee in ('anon', 'authenticated')`;
    const columns = await sql`select grantee, column_name from information_schema.column_privileges
                              where table_schema = 'public' and table_name = 'oauth_tokens'
                                and grantee in ('anon', 'authenticated')`;
    assert.deepEqual([...tables, ...columns], []);
  } finally {
    await sql.end();
  }
});
