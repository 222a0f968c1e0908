// The inbox UI's endpoints: GET/DELETE /events, GET /threads, and notes CRUD (/notes), with
// search over what they store, as the owner and as someone else.
import assert from "node:assert/strict";
import { call, connect, FUNCTIONS_URL, newUser, rest, until } from "../_support/stack.ts";
import { marker } from "../_support/chat.ts";

const api = (token: string, path: string, init: RequestInit = {}) =>
  call(`${FUNCTIONS_URL}${path}`, {
    ...init,
    token,
    headers: init.body ? { "content-type": "application/json" } : {},
  });

const embedding = `[${Array(1536).fill(0.01).join(",")}]`;
/** Full-text matches only: the fake embedder makes every row semantically close to every query. */
async function search(token: string, query: string, extra: Record<string, unknown> = {}) {
  const res = await rest(token, "/rpc/hybrid_search", {
    method: "POST",
    body: JSON.stringify({ query_text: query, query_embedding: embedding, ...extra }),
  });
  assert.equal(res.status, 200, res.text);
  return {
    body: res.body.filter((h: { full_text_rank: number | null }) => h.full_text_rank !== null),
  };
}

async function seedEvents(sql: ReturnType<typeof connect>, userId: string) {
  const [thread] =
    await sql`insert into public.threads (user_id, source, external_id, subject, last_event_at)
                             values (${userId}, 'slack', ${
      marker("C")
    }, 'launch', '2026-11-30T12:00:00Z') returning id`;
  const rows = [
    ["slack", "2026-11-30T09:00:00Z", "standup moved to ten", thread.id],
    ["slack", "2026-11-30T12:00:00Z", "launch checklist ready", thread.id],
    ["outlook", "2026-11-30T10:00:00Z", "invoice 4411 attached", null],
    ["telegram", "2026-11-29T20:00:00Z", "dinner tomorrow?", null],
  ];
  const ids: string[] = [];
  for (const [source, at, body, threadId] of rows) {
    const [e] =
      await sql`insert into public.events (user_id, source, external_id, thread_id, event_type, body, occurred_at)
                          values (${userId}, ${source}, ${
        marker("x")
      }, ${threadId}, 'message', ${body}, ${at}) returning id`;
    ids.push(e.id);
  }
  return { thread: thread.id as string, ids };
}

Deno.test("events: listed newest first with source, time, thread and text filters and a cursor; others see nothing", async () => {
  const sql = connect();
  try {
    const user = await newUser("inbox");
    const { thread, ids } = await seedEvents(sql, user.userId);
    const all = await api(user.token, "/events");
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(all.body.events.map((e: { id: string }) => e.id), [
      ids[1],
      ids[2],
      ids[0],
      ids[3],
    ]);

    const slack = await api(user.token, "/events?source=slack&from=2026-11-30T10:00:00Z");
    assert.deepEqual(slack.body.events.map((e: { id: string }) => e.id), [ids[1]]);
    const inThread = await api(user.token, `/events?thread=${thread}`);
    assert.equal(inThread.body.events.length, 2);
    const text = await api(user.token, "/events?q=invoice%204411");
    assert.deepEqual(text.body.events.map((e: { id: string }) => e.id), [ids[2]]);

    const first = await api(user.token, "/events?limit=3");
    assert.equal(first.body.events.length, 3);
    const second = await api(user.token, `/events?limit=3&cursor=${first.body.next_cursor}`);
    assert.deepEqual(second.body.events.map((e: { id: string }) => e.id), [ids[3]]);
    assert.equal(second.body.next_cursor, null);

    const one = await api(user.token, `/events/${ids[2]}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.body, "invoice 4411 attached");
    assert.deepEqual(one.body.raw, {});

    const stranger = await newUser("inbox");
    assert.equal((await api(stranger.token, `/events/${ids[2]}`)).status, 404);
    assert.equal(
      (await api(stranger.token, `/events/${ids[2]}`, { method: "DELETE" })).status,
      404,
    );
    assert.deepEqual((await api(stranger.token, "/events")).body.events, []);

    const threads = await api(user.token, "/threads?source=slack");
    assert.equal(threads.status, 200);
    assert.deepEqual(
      threads.body.threads.map((t: { id: string; event_count: number }) => [t.id, t.event_count]),
      [[thread, 2]],
    );
  } finally {
    await sql.end();
  }
});

Deno.test("events: DELETE /events/{id} removes the event and its index rows at once", async () => {
  const sql = connect();
  try {
    const user = await newUser("inbox");
    const word = marker("walrus");
    const [e] =
      await sql`insert into public.events (user_id, source, external_id, event_type, body, occurred_at)
                          values (${user.userId}, 'slack', ${
        marker("x")
      }, 'message', ${`the ${word} memo`}, now()) returning id`;
    await until("indexed", async () => (await search(user.token, word)).body?.length === 1, 20_000);
    const res = await api(user.token, `/events/${e.id}`, { method: "DELETE" });
    assert.equal(res.status, 204);
    assert.deepEqual((await search(user.token, word)).body, []);
    const [left] =
      await sql`select count(*)::int as n from public.search_index where object_id = ${e.id}`;
    assert.equal(left.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("notes: create, read, change, delete; indexed for search like events, re-indexed on change", async () => {
  const sql = connect();
  try {
    const user = await newUser("notes");
    const word = marker("narwhal");
    const created = await api(user.token, "/notes", {
      method: "POST",
      body: JSON.stringify({ title: "Ideas", body: `a ${word} plan` }),
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.id;
    assert.equal(created.body.title, "Ideas");
    await until("indexed", async () => {
      const hits = (await search(user.token, word, { object_types: ["note"] })).body;
      return hits?.length === 1 && hits[0].object_id === id;
    }, 20_000);
    assert.equal((await api(user.token, `/notes/${id}`)).body.index_status, "done");

    const other = marker("otter");
    const changed = await api(user.token, `/notes/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ body: `an ${other} plan` }),
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.title, "Ideas", "the title stays");
    await until(
      "re-indexed",
      async () => (await search(user.token, other)).body?.length === 1,
      20_000,
    );
    assert.deepEqual(
      (await search(user.token, word)).body,
      [],
      "the old text is gone from the index",
    );
    const titled = await api(user.token, `/notes/${id}`, {
      method: "PATCH",
      body: JSON.stringify({ title: null }),
    });
    assert.equal(titled.body.title, null);

    const list = await api(user.token, `/notes?q=${other}`);
    assert.deepEqual(list.body.notes.map((n: { id: string }) => n.id), [id]);

    const stranger = await newUser("notes");
    assert.equal((await api(stranger.token, `/notes/${id}`)).status, 404);
    assert.equal(
      (await api(stranger.token, `/notes/${id}`, {
        method: "PATCH",
        body: JSON.stringify({ body: "mine now" }),
      })).status,
      404,
    );
    assert.equal((await api(stranger.token, `/notes/${id}`, { method: "DELETE" })).status, 404);

    assert.equal((await api(user.token, `/notes/${id}`, { method: "DELETE" })).status, 204);
    assert.equal((await api(user.token, `/notes/${id}`)).status, 404);
    const [left] =
      await sql`select count(*)::int as n from public.search_index where object_id = ${id}`;
    assert.equal(left.n, 0);
  } finally {
    await sql.end();
  }
});

Deno.test("notes: bad input is a 4xx and writes nothing", async () => {
  const sql = connect();
  try {
    const user = await newUser("notes");
    const tooBig = "x".repeat(200_001);
    for (
      const [body, status] of [
        [{}, 400],
        [{ body: "" }, 400],
        [{ body: "ok", owner: "someone" }, 400],
        [{ body: tooBig }, 400],
      ] as const
    ) {
      const res = await api(user.token, "/notes", { method: "POST", body: JSON.stringify(body) });
      assert.equal(res.status, status, JSON.stringify(body).slice(0, 40));
      assert.equal(typeof res.body.error.code, "string");
    }
    const [n] =
      await sql`select count(*)::int as n from public.notes where user_id = ${user.userId}`;
    assert.equal(n.n, 0);
  } finally {
    await sql.end();
  }
});
