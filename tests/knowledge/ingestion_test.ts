// Ingestion through database webhooks: an insert is all it takes; content changes re-index,
// unchanged content does not; failures are retried by the sweeper and dead-lettered.
import assert from "node:assert/strict";
import {
  chatUser,
  documentStatus,
  marker,
  providerRequests,
  queueScript,
  readyDocument,
  until,
  withDb,
} from "../_support/chat.ts";
import { call, REST_URL } from "../_support/stack.ts";

Deno.test("an insert is all it takes: the document becomes ready with embedded chunks; the webhook carries ids only", async () => {
  const alice = await chatUser("alice");
  const word = marker("ingest");
  const content =
    `# Plan\nThe ${word} project starts in May.\n\n## Risks\nWeather and ${word} suppliers.`;
  // Insert straight through PostgREST, as a frontend could: no Aide endpoint involved.
  const res = await call(`${REST_URL}/documents`, {
    method: "POST",
    token: alice.token,
    headers: { "content-type": "application/json", prefer: "return=representation" },
    body: JSON.stringify({ kind: "document", title: "Plan", content }),
  });
  assert.equal(res.status, 201, res.text);
  const id = res.body[0].id;
  const doc = await documentStatus(id, ["ready"]);
  assert.ok(doc.chunk_count >= 1);
  await withDb(async (sql) => {
    const chunks =
      await sql`select content, embedding is not null as embedded, owner_id from public.search_index
                             where document_id = ${id} order by chunk_index`;
    assert.equal(chunks.length, doc.chunk_count);
    assert.ok(chunks.every((c) => c.embedded && c.owner_id === alice.userId));
    assert.ok(chunks.map((c) => c.content).join(" ").includes(word));
    const [usage] = await sql`select count(*)::int as n from public.usage_ledger
                              where user_id = ${alice.userId} and product_step = 'embedding'`;
    assert.ok(usage.n >= 1, "embedding calls are not metered");
  });

  // What the trigger queues for pg_net: the document id, never its content.
  await withDb((sql) =>
    sql.begin(async (tx) => {
      const [d] = await tx`insert into public.documents (owner_id, kind, title, content)
                           values (${alice.userId}, 'note', 'peek', ${`secret body ${word}`}) returning id`;
      const [queued] =
        await tx`select url, convert_from(body, 'UTF8')::jsonb as body from net.http_request_queue
                                where convert_from(body, 'UTF8') like ${`%${d.id}%`}`;
      assert.match(queued.url, /\/functions\/v1\/ingest$/);
      assert.deepEqual(queued.body, { document_id: d.id });
      throw new Error("rollback");
    }).catch((e) => assert.equal(e.message, "rollback"))
  );
});

Deno.test("a content change replaces the chunks; the same content is not embedded again", async () => {
  const alice = await chatUser("alice");
  const first = marker("before");
  const second = marker("after");
  const created = await alice.api("/documents", {
    method: "POST",
    json: { title: "Changing", content: `About ${first}.` },
  });
  const id = created.body.id;
  await documentStatus(id, ["ready"]);

  const changed = await alice.api(`/documents/${id}`, {
    method: "PATCH",
    json: { content: `Now about ${second}.` },
  });
  assert.equal(changed.body.status, "pending");
  await documentStatus(id, ["ready"]);
  await withDb(async (sql) => {
    const chunks = await sql`select content from public.search_index where document_id = ${id}`;
    assert.equal(chunks.length, 1);
    assert.match(chunks[0].content, new RegExp(second));
    assert.doesNotMatch(chunks[0].content, new RegExp(first));
  });

  const embeddingsBefore = (await providerRequests("openai", second)).length;
  const same = await alice.api(`/documents/${id}`, {
    method: "PATCH",
    json: { content: `Now about ${second}.`, title: "Renamed" },
  });
  assert.equal(same.body.status, "ready");
  assert.equal(same.body.title, "Renamed");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(
    (await providerRequests("openai", second)).length,
    embeddingsBefore,
    "unchanged content was embedded again",
  );
});

Deno.test("failed ingestion is retried by the sweeper, then dead-lettered with the error on the document; never duplicate chunks", async () => {
  const alice = await chatUser("alice");
  const word = marker("broken");
  const maxAttempts = await withDb((sql) =>
    sql`select value::int as n from public.app_settings where key = 'knowledge.max_attempts'`.then((
      r,
    ) => r[0].n)
  );
  // Every embeddings call for this document fails: each attempt makes 3 calls (the LLM layer
  // retries twice), so exactly this many failures make every attempt fail.
  await queueScript(
    "openai",
    { status: 500, retry_after: 0.01 },
    { contains: word },
    maxAttempts * 3,
  );
  const created = await alice.api("/documents", {
    method: "POST",
    json: { title: "Broken", content: `The ${word} text.` },
  });
  const id = created.body.id;

  await withDb(async (sql) => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const job = await until(
        `attempt ${attempt} to finish`,
        () =>
          sql`select status, attempts, last_error from public.ingestion_jobs where document_id = ${id}`
            .then(([j]) => j.attempts === attempt && j.status !== "processing" ? j : null),
      );
      if (attempt < maxAttempts) {
        assert.equal(job.status, "queued");
        assert.ok(job.last_error);
        // Make the backoff due now and let the recovery step send it again.
        await sql`update public.ingestion_jobs set next_run_at = now() where document_id = ${id}`;
        const [{ sent }] = await sql`select private.dispatch_due_ingestion(100) as sent`;
        assert.ok(sent >= 1);
      } else {
        assert.equal(job.status, "dead");
      }
    }
    const [doc] = await sql`select status, error from public.documents where id = ${id}`;
    assert.equal(doc.status, "error");
    assert.match(doc.error, /500|server/i);
    const [{ n }] =
      await sql`select count(*)::int as n from public.search_index where document_id = ${id}`;
    assert.equal(n, 0);
  });

  // Fixed content goes through; two deliveries at once still give one set of chunks.
  const fixed = await alice.api(`/documents/${id}`, {
    method: "PATCH",
    json: { content: `The ${word} text, fixed.` },
  });
  assert.equal(fixed.status, 200);
  await documentStatus(id, ["ready"]);
  await withDb(async (sql) => {
    await sql`update public.ingestion_jobs set status = 'queued', next_run_at = now() where document_id = ${id}`;
    await Promise.all([
      sql`select private.dispatch_due_ingestion(100)`,
      sql`select private.dispatch_due_ingestion(100)`,
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    const rows = await sql`select chunk_index, count(*)::int as n from public.search_index
                           where document_id = ${id} group by chunk_index`;
    assert.ok(rows.length >= 1 && rows.every((r) => r.n === 1), "duplicate chunks");
  });
});

Deno.test("an ingestion job stuck in processing returns to the queue, visibly to its owner; a live one is left alone", async () => {
  const alice = await chatUser("alice");
  const stuck = await readyDocument(alice, { title: "Stuck", content: `stuck ${marker()}` });
  const live = await readyDocument(alice, { title: "Live", content: `live ${marker()}` });
  await withDb(async (sql) => {
    // Keep pg_cron's own recovery runs off these steps meanwhile (they take the same locks).
    const lock = await sql.reserve();
    await lock`select pg_advisory_lock(private.job_lock_key('recovery', step))
               from unnest(array['stuck_ingestion', 'due_ingestion']) step`;
    try {
      // The worker handling `stuck` died 11 minutes ago; `live` is being handled right now.
      await sql`update public.ingestion_jobs set status = 'processing', locked_at = now() - interval '11 minutes',
              last_error = null where document_id = ${stuck}`;
      await sql`update public.ingestion_jobs set status = 'processing', locked_at = now() where document_id = ${live}`;
      // The aide-recovery job runs both steps every minute.
      const steps = await sql`select name from private.recovery_steps
                              where handler in ('private.recover_stuck_ingestion', 'private.dispatch_due_ingestion')`;
      assert.equal(steps.length, 2);
      const [{ recovered }] = await sql`select private.recover_stuck_ingestion(100) as recovered`;
      assert.ok(recovered >= 1);
      const jobs = await sql`select document_id, status, last_error from public.ingestion_jobs
                           where document_id in (${stuck}, ${live})`;
      const byId = Object.fromEntries(jobs.map((j) => [j.document_id, j]));
      assert.equal(byId[stuck].status, "queued");
      assert.equal(byId[live].status, "processing");
      await sql`update public.ingestion_jobs set status = 'done', locked_at = null where document_id = ${live}`;
    } finally {
      await lock`select pg_advisory_unlock_all()`;
      lock.release();
    }
  });
  const seen = await alice.api(`/documents/${stuck}`);
  assert.equal(seen.body.ingestion.last_error, "interrupted while processing");
});
