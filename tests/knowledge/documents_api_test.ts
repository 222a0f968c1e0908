// The documents API: list (kind filter, title search, cursors), get, patch, delete; who may
// see and change what; and bad input refused without writing anything.
import assert from "node:assert/strict";
import {
  chatUser,
  expectRefused,
  marker,
  type RefusedCase,
  until,
  withDb,
} from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

Deno.test("list filters by kind and searches titles for @mention autocomplete, with cursors", async () => {
  const alice = await chatUser("alice");
  const tag = marker("auto");
  for (
    const [kind, title] of [["transcript", `Standup ${tag} Monday`], [
      "transcript",
      `Standup ${tag} Tuesday`,
    ], ["note", `Idea ${tag}`]]
  ) {
    assert.equal(
      (await alice.api("/documents", { method: "POST", json: { kind, title, content: "text" } }))
        .status,
      201,
    );
  }
  const titles = (r: { body: { documents: { title: string }[] } }) =>
    r.body.documents.map((d) => d.title);
  assert.deepEqual(titles(await alice.api(`/documents?q=standup%20${tag}`)), [
    `Standup ${tag} Tuesday`,
    `Standup ${tag} Monday`,
  ]);
  assert.deepEqual(titles(await alice.api(`/documents?kind=note&q=${tag}`)), [`Idea ${tag}`]);
  const first = await alice.api(`/documents?q=${tag}&limit=2`);
  assert.equal(first.body.documents.length, 2);
  const rest = await alice.api(`/documents?q=${tag}&limit=2&cursor=${first.body.next_cursor}`);
  assert.deepEqual(titles(rest), [`Standup ${tag} Monday`]);
  assert.equal(rest.body.next_cursor, null);
});

Deno.test("others get 404 for a private document, can read a shared one but not change or delete it", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  const priv =
    (await alice.api("/documents", { method: "POST", json: { title: "Private", content: "mine" } }))
      .body.id;
  const shared = (await alice.api("/documents", {
    method: "POST",
    json: { title: "Shared", content: "ours", visibility: "shared" },
  })).body.id;

  for (const [method, json] of [["GET"], ["PATCH", { title: "x" }], ["DELETE"]] as const) {
    const res = await bob.api(`/documents/${priv}`, { method, json });
    assert.equal(res.status, 404, `${method} private`);
  }
  const read = await bob.api(`/documents/${shared}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.content, "ours");
  assert.equal(read.body.is_owner, false);
  assert.equal(read.body.grants, undefined, "grants are the owner's business");
  assert.equal(
    (await bob.api(`/documents/${shared}`, { method: "PATCH", json: { title: "x" } })).status,
    403,
  );
  assert.equal((await bob.api(`/documents/${shared}`, { method: "DELETE" })).status, 403);

  const patched = await alice.api(`/documents/${priv}`, {
    method: "PATCH",
    json: { title: "Renamed", metadata: { team: "a" } },
  });
  assert.equal(patched.body.title, "Renamed");
  assert.deepEqual(patched.body.metadata, { team: "a" });
  assert.equal((await alice.api(`/documents/${priv}`, { method: "DELETE" })).status, 204);
  assert.equal((await alice.api(`/documents/${priv}`)).status, 404);
  await withDb(async (sql) => {
    const [{ n }] =
      await sql`select count(*)::int as n from public.search_index where document_id = ${priv}`;
    assert.equal(n, 0);
    const [t] = await sql`select title from public.documents where id = ${shared}`;
    assert.equal(t.title, "Shared");
  });
});

Deno.test("bad input to the documents API is refused with a 4xx JSON error and writes nothing", async () => {
  const alice = await chatUser("alice");
  const id =
    (await alice.api("/documents", { method: "POST", json: { title: "Keep", content: "same" } }))
      .body.id;
  // Ingestion updates the row; let it finish so that only the requests below could change it.
  await withDb((sql) =>
    until(
      "ready",
      () =>
        sql`select status from public.documents where id = ${id}`.then(([d]) =>
          d.status === "ready"
        ),
    )
  );
  const snapshot = () =>
    withDb((sql) =>
      sql`select (select count(*) from public.documents where owner_id = ${alice.userId})::int as documents,
                 (select md5(string_agg(d::text, '' order by d.id)) from public.documents d where owner_id = ${alice.userId}) as state,
                 (select count(*) from public.document_grants g join public.documents d on d.id = g.document_id where d.owner_id = ${alice.userId})::int as grants`
        .then(([r]) => r)
    );
  const before = await snapshot();
  const huge = "x".repeat(2_000_001);
  const cases: RefusedCase[] = [
    ["POST", "/documents", { content: "no title" }, 400],
    ["POST", "/documents", { title: "t", content: 42 }, 400],
    ["POST", "/documents", { title: "t", content: "c", kind: "video" }, 400],
    ["POST", "/documents", { title: "t", content: "c", visibility: "public" }, 400],
    ["POST", "/documents", { title: "t", content: "c", extra: 1 }, 400],
    ["POST", "/documents", { title: "t", content: "c", occurred_at: "yesterday" }, 400],
    ["POST", "/documents", { title: "t", content: huge }, 400],
    ["GET", "/documents?limit=1000", undefined, 400],
    ["GET", "/documents?cursor=nope", undefined, 400],
    ["GET", "/documents?kind=video", undefined, 400],
    ["GET", "/documents/not-a-uuid", undefined, 400],
    ["GET", `/documents/${crypto.randomUUID()}`, undefined, 404],
    ["GET", "/documents/search", undefined, 400],
    ["GET", "/documents/search?q=x&limit=0", undefined, 400],
    ["GET", "/documents/search?q=x&documents=bad", undefined, 400],
    ["GET", "/documents/search?q=x&from=soon", undefined, 400],
    ["PATCH", `/documents/${id}`, {}, 400],
    ["PATCH", `/documents/${id}`, { visibility: "everyone" }, 400],
    ["PATCH", `/documents/${id}`, { grants: { add: ["not-a-uuid"] } }, 400],
    ["PATCH", `/documents/${id}`, { grants: { add: [crypto.randomUUID()] } }, 422],
    ["PATCH", `/documents/${id}`, { content: huge }, 400],
    ["DELETE", "/documents/123", undefined, 400],
  ];
  await expectRefused(alice, cases);
  const raw = (body: string, type: string) =>
    alice.api("/documents", { method: "POST", body, headers: { "content-type": type } });
  assert.equal((await raw('{"title":"t","content":"c"}', "text/plain")).status, 415);
  assert.equal((await raw('{"title":', "application/json")).status, 400);
  assert.equal((await raw("x".repeat(2_200_000), "application/json")).status, 413);
  const unauthenticated = await fetch(`${FUNCTIONS_URL}/documents`);
  assert.equal(unauthenticated.status, 401);
  await unauthenticated.body?.cancel();
  assert.deepEqual(await snapshot(), before);
});
