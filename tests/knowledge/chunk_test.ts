// Chunking follows the document's structure, stays under the token budget and overlaps.
import assert from "node:assert/strict";
import { chunkText } from "../../supabase/functions/_shared/knowledge/chunk.ts";

const tokens = (s: string) => Math.ceil(s.length / 4);

Deno.test("markdown: sections start at headings; long sections split with overlap, under the budget", () => {
  const long = Array.from({ length: 60 }, (_, i) => `Sentence number ${i} about the budget.`).join(
    " ",
  );
  const md = `# Intro\nShort intro.\n\n## Budget\n${long}\n\n## Team\nAlice and Bob.`;
  const chunks = chunkText(md, "document", { maxTokens: 100, overlapTokens: 20 });
  assert.ok(chunks.every((c) => tokens(c) <= 100), "a chunk is over the budget");
  assert.ok(chunks[0].startsWith("# Intro"));
  assert.ok(
    chunks.some((c) => c.startsWith("## Budget")),
    "the Budget section does not start a chunk",
  );
  assert.ok(chunks.at(-1)!.includes("## Team\nAlice and Bob."));
  // Consecutive pieces of the long section share words at the seam.
  const budget = chunks.filter((c) => c.includes("Sentence number"));
  for (let i = 1; i < budget.length; i++) {
    const previousTail = budget[i - 1].split(" ").slice(-3).join(" ");
    assert.ok(budget[i].includes(previousTail), `no overlap between pieces ${i - 1} and ${i}`);
  }
  // Nothing is lost.
  for (let i = 0; i < 60; i++) {
    assert.ok(chunks.some((c) => c.includes(`number ${i} `)), `sentence ${i} lost`);
  }
});

Deno.test("transcripts: chunks hold whole speaker turns and repeat the last turn for overlap", () => {
  const turns = Array.from(
    { length: 20 },
    (_, i) => `${i % 2 ? "Alice" : `[00:0${i % 10}] Bob Smith`}: point ${i} is about the roadmap`,
  );
  const chunks = chunkText(turns.join("\n"), "transcript", { maxTokens: 50, overlapTokens: 15 });
  assert.ok(chunks.length > 1);
  for (const chunk of chunks) {
    for (const line of chunk.split("\n\n")) {
      assert.ok(turns.includes(line), `a turn was cut: ${line}`);
    }
  }
  for (let i = 1; i < chunks.length; i++) {
    const last = chunks[i - 1].split("\n\n").at(-1)!;
    assert.ok(chunks[i].startsWith(last), "no overlap of the last turn");
  }
});

Deno.test("empty content has no chunks; short content is one chunk", () => {
  assert.deepEqual(chunkText("", "note"), []);
  assert.deepEqual(chunkText("  \n\n ", "note"), []);
  assert.deepEqual(chunkText("Just a line.", "note"), ["Just a line."]);
});
