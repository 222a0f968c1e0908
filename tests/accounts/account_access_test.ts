// Who may use Aide is one SQL function, private.account_access: a confirmed email in an allowed
// domain. The functions' middleware asks it, and so does a restrictive RLS policy on every table
// in public and on storage.objects, so an account that may not use Aide gets nothing through
// /rest/v1 or Storage either. (Domains: tests/accounts/allowlist_test.ts; the policy on every
// table: tests/db/10_security.sql.)
import assert from "node:assert/strict";
import { type ChatUser, chatUser, readyDocument, until, withDb } from "../_support/chat.ts";
import { issueUserToken } from "../../local/token.ts";
import { call, cfg, env, rest } from "../_support/stack.ts";

const embedding = `[${Array(1536).fill(0.01).join(",")}]`;

/** What `user` can read through PostgREST and Storage of `ownDoc`, and of `shared`'s chunks. */
async function readsThroughRest(user: ChatUser, ownDoc: string, sharedDoc: string, file: string) {
  const docs = await rest(user.token, `/documents?select=id&id=in.(${ownDoc},${sharedDoc})`);
  const chunks = await rest(user.token, `/search_index?select=id&document_id=eq.${sharedDoc}`);
  const search = await rest(user.token, "/rpc/hybrid_search", {
    method: "POST",
    body: JSON.stringify({
      query_text: "access",
      query_embedding: embedding,
      document_ids: [sharedDoc],
    }),
  });
  const object = await call(`${env.SUPABASE_URL}/storage/v1/object/documents/${file}`, {
    token: user.token,
  });
  return {
    documents: Array.isArray(docs.body) ? docs.body.length : docs.status,
    chunks: Array.isArray(chunks.body) ? chunks.body.length : chunks.status,
    search: Array.isArray(search.body) ? search.body.length : search.status,
    file: object.status,
  };
}

Deno.test("an account whose email is not confirmed reads and writes nothing, through the functions, /rest/v1 or Storage", async () => {
  const owner = await chatUser("sharer");
  const user = await chatUser("unconfirmed");
  const sharedDoc = await readyDocument(owner, {
    title: "Shared access notes",
    content: "Everyone may read these access notes.",
    visibility: "shared",
  });
  const ownDoc = await readyDocument(user, { title: "Mine", content: "my own access notes" });
  const form = new FormData();
  form.set("file", new File(["a file about access"], "access.txt"));
  const uploaded = await user.api("/documents", { method: "POST", body: form });
  assert.equal(uploaded.status, 201, uploaded.text);
  const file = await withDb(async (sql) =>
    (await sql`select storage_path from public.documents where id = ${uploaded.body.id}`)[0]
      .storage_path
  );

  // Confirmed: everything is readable.
  assert.deepEqual(await readsThroughRest(user, ownDoc, sharedDoc, file), {
    documents: 2,
    chunks: 1,
    search: 1,
    file: 200,
  });

  // As if the account had signed up without confirming its address.
  await withDb((sql) =>
    sql`update auth.users set email_confirmed_at = null where id = ${user.userId}`
  );
  const refused = await until("the middleware to refuse the account", async () => {
    const r = await user.api("/documents");
    return r.status === 403 ? r : null;
  }, 20_000);
  assert.equal(refused.body.error.code, "email_not_confirmed");

  const reads = await readsThroughRest(user, ownDoc, sharedDoc, file);
  assert.equal(reads.documents, 0, "documents readable through /rest/v1");
  assert.equal(reads.chunks, 0, "search_index readable through /rest/v1");
  assert.equal(reads.search, 0, "hybrid_search found chunks");
  assert.notEqual(reads.file, 200, "the stored file is readable through Storage");

  // Writes through PostgREST are refused and change nothing.
  const insert = await rest(user.token, "/documents", {
    method: "POST",
    body: JSON.stringify({ kind: "note", title: "sneaky", content: "x" }),
  });
  assert.ok(insert.status >= 400, `insert allowed: ${insert.status}`);
  const patch = await rest(user.token, `/documents?id=eq.${ownDoc}`, {
    method: "PATCH",
    body: JSON.stringify({ title: "changed" }),
  });
  assert.deepEqual(patch.body, []);
  await withDb(async (sql) => {
    const [d] = await sql`select title from public.documents where id = ${ownDoc}`;
    assert.equal(d.title, "Mine");
    const [{ n }] = await sql`select count(*)::int as n from public.documents
                              where owner_id = ${user.userId} and title = 'sneaky'`;
    assert.equal(n, 0);
  });

  const [{ access }] = await withDb((sql) =>
    sql`select private.account_access(${user.userId}) as access`
  );
  assert.equal(access, "email_not_confirmed");

  // Confirming the address lets the account in again.
  await withDb((sql) =>
    sql`update auth.users set email_confirmed_at = now() where id = ${user.userId}`
  );
  assert.equal((await readsThroughRest(user, ownDoc, sharedDoc, file)).documents, 2);
});

Deno.test("account_access: unknown, deleted and banned accounts are refused", async () => {
  await withDb(async (sql) => {
    const access = async (id: string) =>
      (await sql`select private.account_access(${id}) as a`)[0].a;
    assert.equal(await access(crypto.randomUUID()), "no_account");
    const [u] = await sql`insert into auth.users (email, email_confirmed_at)
                          values (${`banned-${crypto.randomUUID()}@example.com`}, now()) returning id`;
    assert.equal(await access(u.id), "allowed");
    await sql`update auth.users set banned_until = now() + interval '1 day' where id = ${u.id}`;
    assert.equal(await access(u.id), "banned");
    await sql`update auth.users set banned_until = null, deleted_at = now() where id = ${u.id}`;
    assert.equal(await access(u.id), "no_account");
    await sql`delete from auth.users where id = ${u.id}`;
  });
});

Deno.test("email confirmations are on in config.toml; npm run token makes confirmed users", async () => {
  const config = await Deno.readTextFile(new URL("../../supabase/config.toml", import.meta.url));
  const authEmail = config.split(/^\[/m).find((s) => s.startsWith("auth.email]"));
  assert.match(authEmail ?? "", /^enable_confirmations = true$/m);

  const user = await chatUser("token");
  await withDb((sql) =>
    sql`update auth.users set email_confirmed_at = null where id = ${user.userId}`
  );
  await issueUserToken(cfg, user.email);
  await withDb(async (sql) => {
    const [u] = await sql`select email_confirmed_at, private.account_access(id) as access
                          from auth.users where id = ${user.userId}`;
    assert.notEqual(u.email_confirmed_at, null);
    assert.equal(u.access, "allowed");
  });
});

Deno.test("the allowlist policy is planned as letting every row through (RLS queries keep their index plans)", async () => {
  const user = await chatUser("planner");
  const claims = JSON.stringify({ sub: user.userId, role: "authenticated" });
  const planRows = (row: Record<string, unknown>) =>
    (row["QUERY PLAN"] as { Plan: { "Plan Rows": number } }[])[0].Plan["Plan Rows"];
  await withDb(async (sql) => {
    // app_settings' own policy admits every signed-in user (`using (true)`): only the allowlist's
    // restrictive policy narrows it, and it must not shrink the estimate (it was 0.5% of the rows).
    const [all] = await sql`explain (format json) select key from public.app_settings`;
    const [asUser] = await sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true),
                      set_config('request.jwt.claims', ${claims}, true)`;
      return await tx`explain (format json) select key from public.app_settings`;
    });
    assert.ok(planRows(all) >= 20, `app_settings has ${planRows(all)} rows by the estimate`);
    assert.ok(
      planRows(asUser) >= 0.9 * planRows(all),
      `as the user ${planRows(asUser)} of ${planRows(all)} rows estimated`,
    );
  });
});
