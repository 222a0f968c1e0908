/** Ranking and packing: which events a summary reads first, and how they are cut into calls. */
import assert from "node:assert/strict";
import type { WindowEvent } from "../../supabase/functions/_shared/inbox/events.ts";
import { estimateTokens, pack, rankEvents } from "../../supabase/functions/_shared/inbox/rank.ts";

const window = { start: new Date("2026-12-01T08:00:00Z"), end: new Date("2026-12-01T10:00:00Z") };

function event(id: string, importance: number, minutesAfterStart: number, body = "x"): WindowEvent {
  return {
    id,
    source: "slack",
    event_type: "message",
    title: null,
    body,
    url: null,
    importance_score: importance,
    occurred_at: new Date(window.start.getTime() + minutesAfterStart * 60_000),
    content_hash: "",
    thread_id: null,
    thread_subject: null,
    thread_external_id: null,
    sender: null,
    source_account_id: null,
  };
}

Deno.test("rank: importance and recency, and meaning first when the prompt names a topic", () => {
  const events = [
    event("old-important", 90, 5), // 0.9 + 0.04
    event("new-chatter", 10, 115), // 0.1 + 0.96
    event("mid", 50, 60), // 0.5 + 0.5
    event("invoice", 20, 30), // 0.2 + 0.25
  ];
  assert.deepEqual(rankEvents(events, window, new Map()).map((r) => r.event.id), [
    "new-chatter",
    "mid",
    "old-important",
    "invoice",
  ]);
  // What matches the topic comes before everything else (0.94 + 2/1.1 > 0.45 + 2/1 > 1.06).
  const meaning = new Map([["invoice", 0], ["old-important", 1]]);
  assert.deepEqual(rankEvents(events, window, meaning).map((r) => r.event.id), [
    "old-important",
    "invoice",
    "new-chatter",
    "mid",
  ]);
});

Deno.test("pack: best-ranked first until the budget, parts within their size, each in time order", () => {
  const body = "word ".repeat(40); // ~50 tokens a line with its header
  const events = Array.from({ length: 10 }, (_, i) => event(`e${i}`, i * 10, i * 10, body));
  const ranked = rankEvents(events, window, new Map());
  const lineTokens = estimateTokens(
    `[e0] 2026-12-01 08:00 (+00:00) slack message (importance 0) ${body.trim()}`,
  ) + 1;
  const parts = pack(ranked, "UTC", {
    partTokens: lineTokens * 3,
    summaryTokenBudget: lineTokens * 7,
  });
  const chosen = parts.flatMap((p) => p.events.map((e) => e.id));
  // The seven best-ranked (the newest, most important) fit; the three lowest are left out.
  assert.deepEqual(chosen.toSorted(), ["e3", "e4", "e5", "e6", "e7", "e8", "e9"]);
  assert.deepEqual(parts.map((p) => p.events.length), [3, 3, 1]);
  for (const p of parts) {
    const times = p.events.map((e) => e.occurred_at.getTime());
    assert.deepEqual(times, times.toSorted((a, b) => a - b));
    assert.ok(estimateTokens(p.text) <= lineTokens * 3);
  }
});
