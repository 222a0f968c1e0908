// Hybrid search: meaning (embeddings) and exact words (full text) fused by reciprocal rank,
// every filter honoured, and only what the caller may read.
import assert from "node:assert/strict";
import { type ChatUser, chatUser, marker, readyDocument as ready } from "../_support/chat.ts";

type Result = {
  document_id: string;
  scores: { full_text_rank: number | null; semantic_rank: number | null };
};

Deno.test("hybrid search finds by meaning and by exact words, and ranks a document matching both first", async () => {
  const alice = await chatUser("alice");
  const [a, b, c] = [marker("alpha"), marker("beta"), marker("gamma")];
  const rare = marker("rare");
  const both = await ready(alice, { title: "Both", content: `${a} ${b} ${c} ${rare}` });
  const meaning = await ready(alice, {
    title: "Meaning",
    content: `${a} ${b} and other words entirely`,
  });
  const exact = await ready(alice, {
    title: "Exact",
    content: `Only the word ${rare} is here, nothing else shared.`,
  });

  const res = await alice.api(
    `/documents/search?q=${encodeURIComponent(`${a} ${b} ${c} ${rare}`)}&limit=10`,
  );
  assert.equal(res.status, 200, res.text);
  const results = res.body.results as Result[];
  assert.equal(results[0].document_id, both, "the document matching both ways is not first");
  assert.ok(results[0].scores.full_text_rank && results[0].scores.semantic_rank);
  // Semantic only: shares most words, but not all of them (full text needs every term).
  const byMeaning = results.find((r) => r.document_id === meaning);
  assert.ok(byMeaning, "not found by meaning");
  assert.equal(byMeaning.scores.full_text_rank, null);

  const exactOnly = await alice.api(`/documents/search?q=${rare}&limit=5`);
  const ids = exactOnly.body.results.map((r: Result) => r.document_id);
  assert.ok(ids.includes(exact) && ids.includes(both), "not found by the exact rare word");
  assert.ok(
    exactOnly.body.results.find((r: Result) => r.document_id === exact).scores.full_text_rank,
  );
  assert.match(
    exactOnly.body.results.find((r: Result) => r.document_id === exact).snippet,
    new RegExp(`\\*\\*${rare}\\*\\*`),
  );
});

Deno.test("search honours every filter: kinds, sources, documents, time window, limit", async () => {
  const alice = await chatUser("alice");
  const w = marker("filter");
  const mayNote = await ready(alice, {
    kind: "note",
    title: "May note",
    content: `${w} note`,
    occurred_at: "2026-05-10T10:00:00Z",
    source: "manual",
  });
  const juneTranscript = await ready(alice, {
    kind: "transcript",
    title: "June call",
    content: `Alice: ${w} call`,
    occurred_at: "2026-06-10T10:00:00Z",
    source: "zoom",
  });
  const julyDoc = await ready(alice, {
    kind: "document",
    title: "July doc",
    content: `${w} doc`,
    occurred_at: "2026-07-10T10:00:00Z",
    source: "manual",
  });
  // Semantic search always returns nearest neighbours, so other tests' shared documents may
  // appear too: look only at this test's documents.
  const mine = new Set([mayNote, juneTranscript, julyDoc]);
  const search = async (extra: string) => {
    const res = await alice.api(`/documents/search?q=${w}${extra}`);
    assert.equal(res.status, 200, res.text);
    return new Set(
      res.body.results.map((r: Result) => r.document_id).filter((id: string) => mine.has(id)),
    );
  };
  assert.deepEqual(await search(""), new Set([mayNote, juneTranscript, julyDoc]));
  assert.deepEqual(await search("&kinds=transcript"), new Set([juneTranscript]));
  assert.deepEqual(await search("&kinds=note,document"), new Set([mayNote, julyDoc]));
  assert.deepEqual(await search("&sources=manual"), new Set([mayNote, julyDoc]));
  assert.deepEqual(await search(`&documents=${julyDoc},${mayNote}`), new Set([julyDoc, mayNote]));
  assert.deepEqual(
    await search("&from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z"),
    new Set([juneTranscript]),
  );
  const one = await alice.api(`/documents/search?q=${w}&limit=1`);
  assert.equal(one.body.results.length, 1);
});

Deno.test("search never returns another user's private document; shared and granted ones yes", async () => {
  const alice = await chatUser("alice");
  const bob = await chatUser("bob");
  const w = marker("secret");
  const priv = await ready(alice, { title: "Private", content: `${w} private` });
  const shared = await ready(alice, {
    title: "Shared",
    content: `${w} shared`,
    visibility: "shared",
  });
  const granted = await ready(alice, { title: "Granted", content: `${w} granted` });
  // Only this test's documents matter (other tests' shared documents may be neighbours).
  const mine = new Set([priv, shared, granted]);
  const find = async (user: ChatUser) =>
    new Set(
      (await user.api(`/documents/search?q=${w}`)).body.results
        .map((r: Result) => r.document_id).filter((id: string) => mine.has(id)),
    );

  assert.deepEqual(await find(alice), new Set([priv, shared, granted]));
  assert.deepEqual(await find(bob), new Set([shared]));
  const grant = await alice.api(`/documents/${granted}`, {
    method: "PATCH",
    json: { grants: { add: [bob.userId] } },
  });
  assert.deepEqual(grant.body.grants, [bob.userId]);
  assert.deepEqual(await find(bob), new Set([shared, granted]));

  // Making the shared one private hides its chunks too.
  await alice.api(`/documents/${shared}`, { method: "PATCH", json: { visibility: "private" } });
  assert.deepEqual(await find(bob), new Set([granted]));
  await alice.api(`/documents/${granted}`, {
    method: "PATCH",
    json: { grants: { remove: [bob.userId] } },
  });
  assert.deepEqual(await find(bob), new Set());
});
