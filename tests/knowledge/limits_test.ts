// Knowledge's paid path is limited whichever way it is reached: quotas and a write rate limit
// that hold for PostgREST writes (the documents table's trigger), a budget check before any
// embedding call, a `search` rate class; and an ingestion that is killed every time is
// dead-lettered instead of going back to the queue forever. Each test user has its own limits
// (profiles.quotas, profiles.rate_limits, profiles.monthly_budget_usd).
import assert from "node:assert/strict";
import {
  chatUser,
  documentStatus,
  marker,
  providerRequests,
  readyDocument,
  until,
  withDb,
} from "../_support/chat.ts";
import { rest } from "../_support/stack.ts";

const note = (title: string, content = `${title} text`) =>
  JSON.stringify({ kind: "note", title, content });

Deno.test("document quotas hold for PostgREST writes and the functions alike: 403 quota_exceeded, nothing written", async () => {
  const alice = await chatUser("quota");
  await withDb((sql) =>
    sql`update public.profiles set quotas = '{"documents": 2, "bytes": 1000}' where id = ${alice.userId}`
  );
  for (const t of ["one", "two"]) {
    const r = await rest(alice.token, "/documents", { method: "POST", body: note(t) });
    assert.equal(r.status, 201, r.text);
  }
  const third = await rest(alice.token, "/documents", { method: "POST", body: note("three") });
  assert.equal(third.status, 403, third.text);
  assert.equal(third.body.hint, "quota_exceeded");
  const viaApi = await alice.api("/documents", {
    method: "POST",
    json: { kind: "note", title: "four", content: "x" },
  });
  assert.equal(viaApi.status, 403, viaApi.text);
  assert.equal(viaApi.body.error.code, "quota_exceeded");
  assert.equal(viaApi.body.error.details.quota, "documents");

  // Bytes: a text change past the quota is refused too.
  const big = "x".repeat(1200);
  const patch = await rest(alice.token, `/documents?owner_id=eq.${alice.userId}&title=eq.one`, {
    method: "PATCH",
    body: JSON.stringify({ content: big }),
  });
  assert.equal(patch.status, 403, patch.text);
  await withDb(async (sql) => {
    const rows = await sql`select title, content from public.documents
                           where owner_id = ${alice.userId} order by title`;
    assert.deepEqual(rows.map((r) => r.title), ["one", "two"]);
    assert.equal(rows[0].content, "one text");
  });
});

Deno.test("one PATCH through PostgREST cannot re-embed every document: the write rate limit refuses it (429) and nothing changes", async () => {
  const bob = await chatUser("ratelimit");
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await rest(bob.token, "/documents", { method: "POST", body: note(`doc ${i}`) });
    assert.equal(r.status, 201, r.text);
    ids.push(r.body[0].id);
  }
  await withDb((sql) =>
    sql`update public.profiles set rate_limits = '{"document_writes": {"requests": 3, "window_seconds": 3600}}'
        where id = ${bob.userId}`
  );
  const word = marker("reembed");
  const patch = await rest(bob.token, `/documents?owner_id=eq.${bob.userId}`, {
    method: "PATCH",
    body: JSON.stringify({ content: `changed ${word}` }),
  });
  assert.equal(patch.status, 429, patch.text);
  assert.equal(patch.body.hint, "rate_limited");
  await withDb(async (sql) => {
    const [{ n }] = await sql`select count(*)::int as n from public.documents
                              where owner_id = ${bob.userId} and content like ${"%" + word + "%"}`;
    assert.equal(n, 0, "some documents were changed");
  });
  assert.equal((await providerRequests("openai", word)).length, 0, "an embedding run started");
  // Title changes (no new text, no embedding) are not counted.
  const rename = await rest(bob.token, `/documents?owner_id=eq.${bob.userId}`, {
    method: "PATCH",
    body: JSON.stringify({ title: "renamed" }),
  });
  assert.equal(rename.status, 200, rename.text);
  assert.equal(rename.body.length, 5);
});

Deno.test("past the hard budget no embedding is made: the document ends error budget_exceeded; search answers 402", async () => {
  const carol = await chatUser("budget");
  await withDb((sql) =>
    sql`update public.profiles set monthly_budget_usd = 0 where id = ${carol.userId}`
  );
  const word = marker("nobudget");
  const created = await carol.api("/documents", {
    method: "POST",
    json: { title: "Over budget", content: `The ${word} plan.` },
  });
  assert.equal(created.status, 201, created.text);
  const doc = await documentStatus(created.body.id, ["error", "ready"]);
  assert.equal(doc.status, "error");
  const seen = await carol.api(`/documents/${created.body.id}`);
  assert.equal(seen.body.error_code, "budget_exceeded");
  assert.equal(seen.body.ingestion.status, "dead");

  const query = marker("query");
  const search = await carol.api(`/documents/search?q=${query}`);
  assert.equal(search.status, 402, search.text);
  assert.equal(search.body.error.code, "budget_exceeded");
  assert.equal((await providerRequests("openai", word)).length, 0, "the document was embedded");
  assert.equal((await providerRequests("openai", query)).length, 0, "the query was embedded");
});

Deno.test("searches have their own rate class: 429 rate_limited past rate_limit.search", async () => {
  const dave = await chatUser("search");
  await withDb((sql) =>
    sql`update public.profiles set rate_limits = '{"search": {"requests": 2, "window_seconds": 3600}}'
        where id = ${dave.userId}`
  );
  for (let i = 0; i < 2; i++) {
    assert.equal((await dave.api(`/documents/search?q=hello`)).status, 200);
  }
  const third = await dave.api(`/documents/search?q=hello`);
  assert.equal(third.status, 429, third.text);
  assert.equal(third.body.error.code, "rate_limited");
  assert.ok(Number(third.headers.get("retry-after")) > 0);
});

Deno.test("an ingestion killed every time counts its attempts in recovery and is dead-lettered at knowledge.max_attempts", async () => {
  const erin = await chatUser("killed");
  const retried = await readyDocument(erin, { title: "Retried", content: `r ${marker()}` });
  const killed = await readyDocument(erin, { title: "Killed", content: `k ${marker()}` });
  await withDb(async (sql) => {
    const [{ max }] = await sql`select value::int as max from public.app_settings
                                where key = 'knowledge.max_attempts'`;
    // Both workers died 11 minutes ago; `killed` was on its last attempt.
    await sql`update public.ingestion_jobs set status = 'processing', attempts = 1,
                locked_at = now() - interval '11 minutes' where document_id = ${retried}`;
    await sql`update public.ingestion_jobs set status = 'processing', attempts = ${max},
                locked_at = now() - interval '11 minutes' where document_id = ${killed}`;
    await sql`select private.recover_stuck_ingestion(100)`;
    const jobs = await until("recovery of both jobs", async () => {
      const rows = await sql`select document_id, status, attempts, next_run_at > now() as later
                             from public.ingestion_jobs where document_id in (${retried}, ${killed})`;
      return rows.every((r) => r.status !== "processing") ? rows : null;
    });
    const byId = Object.fromEntries(jobs.map((j) => [j.document_id, j]));
    assert.equal(byId[retried].status, "queued");
    assert.equal(byId[retried].later, true, "a retry after a kill backs off");
    assert.equal(byId[killed].status, "dead");
    const [doc] = await sql`select status, error_code from public.documents where id = ${killed}`;
    assert.deepEqual({ ...doc }, { status: "error", error_code: "interrupted" });
  });
});

Deno.test("search filters by kind before the limit: a page of transcripts comes back full while notes outrank them", async () => {
  const frank = await chatUser("kinds");
  const w = marker("kinds");
  for (let i = 0; i < 12; i++) {
    await readyDocument(frank, {
      kind: "note",
      title: `${w} note ${i}`,
      content: `${w} ${w} ${w} note ${i}`,
    });
  }
  const transcripts = new Set<string>();
  for (let i = 0; i < 3; i++) {
    transcripts.add(
      await readyDocument(frank, {
        kind: "transcript",
        title: `meeting ${i}`,
        content: `Alice: something else entirely, then ${w} once (${i}).`,
      }),
    );
  }
  const res = await frank.api(`/documents/search?q=${w}&kinds=transcript&limit=3`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(
    new Set(res.body.results.map((r: { document_id: string }) => r.document_id)),
    transcripts,
  );
});
