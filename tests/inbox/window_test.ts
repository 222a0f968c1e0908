/** Time phrases to windows in the user's time zone: exact instants, DST days included. */
import assert from "node:assert/strict";
import { parseDueDate, parseTimeWindow } from "../../supabase/functions/_shared/inbox/window.ts";
import { zonedInstant } from "../../supabase/functions/_shared/inbox/zone.ts";

// Tuesday 1 December 2026, 15:10 UTC: 10:10 in New York, 00:10 Wednesday in Tokyo.
const NOW = new Date("2026-12-01T15:10:00Z");
const N = NOW.toISOString();
const NY = "America/New_York";
const TOKYO = "Asia/Tokyo";

type Row = [zone: string, prompt: string, start: string, end: string, phrase: string];

const CASES: Row[] = [
  [NY, "summarize last 2 hours", "2026-12-01T13:10:00.000Z", N, "last 2 hours"],
  [NY, "catch me up on the last hour", "2026-12-01T14:10:00.000Z", N, "last hour"],
  [NY, "anything in the past 3 days?", "2026-11-28T15:10:00.000Z", N, "past 3 days"],
  [NY, "what happened this morning?", "2026-12-01T05:00:00.000Z", N, "this morning"],
  [NY, "anything since Monday", "2026-11-30T05:00:00.000Z", N, "since Monday"],
  [NY, "since 8am", "2026-12-01T13:00:00.000Z", N, "since 8am"],
  [NY, "yesterday's emails", "2026-11-30T05:00:00.000Z", "2026-12-01T05:00:00.000Z", "yesterday"],
  [NY, "this week in slack", "2026-11-30T05:00:00.000Z", N, "this week"],
  [NY, "last week", "2026-11-23T05:00:00.000Z", "2026-11-30T05:00:00.000Z", "last week"],
  // 1 November 2026 00:00 in New York is still daylight time (-4).
  [NY, "last month", "2026-11-01T04:00:00.000Z", "2026-12-01T05:00:00.000Z", "last month"],
  [NY, "today", "2026-12-01T05:00:00.000Z", N, "today"],
  [
    NY,
    "what did I get on Friday",
    "2026-11-27T05:00:00.000Z",
    "2026-11-28T05:00:00.000Z",
    "on Friday",
  ],
  [NY, "between 9am and noon", "2026-12-01T14:00:00.000Z", N, "between 9am and noon"],
  [NY, "summarize Dec 3", "2025-12-03T05:00:00.000Z", "2025-12-04T05:00:00.000Z", "Dec 3"],
  // In Tokyo it is already Wednesday, ten minutes past midnight.
  [TOKYO, "what happened this morning?", "2026-12-01T15:00:00.000Z", N, "this morning"],
  [TOKYO, "since 8am", "2026-11-30T23:00:00.000Z", N, "since 8am"],
  [TOKYO, "yesterday", "2026-11-30T15:00:00.000Z", "2026-12-01T15:00:00.000Z", "yesterday"],
  [TOKYO, "this week", "2026-11-29T15:00:00.000Z", N, "this week"],
  [
    TOKYO,
    "between 9am and noon",
    "2026-12-01T00:00:00.000Z",
    "2026-12-01T03:00:00.000Z",
    "between 9am and noon",
  ],
  ["Asia/Kolkata", "since yesterday", "2026-11-29T18:30:00.000Z", N, "since yesterday"],
];

Deno.test("time phrases become exact windows in the user's zone", () => {
  const wrong: string[] = [];
  for (const [zone, prompt, start, end, phrase] of CASES) {
    const w = parseTimeWindow(prompt, NOW, zone);
    const got = w && [w.start.toISOString(), w.end.toISOString(), w.phrase];
    if (JSON.stringify(got) !== JSON.stringify([start, end, phrase])) {
      wrong.push(`${zone} "${prompt}": got ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("prompts without a time phrase have no window", () => {
  for (const prompt of ["what needs action?", "find the Acme invoice", "hello", "at 3pm"]) {
    assert.equal(parseTimeWindow(prompt, NOW, NY), null, prompt);
  }
});

Deno.test("windows across DST changes keep local midnights", () => {
  // Monday 9 March 2026, New York sprang forward on Sunday the 8th: yesterday was 23 hours.
  const monday = new Date("2026-03-09T15:00:00Z");
  const y = parseTimeWindow("yesterday", monday, NY)!;
  assert.equal(y.start.toISOString(), "2026-03-08T05:00:00.000Z");
  assert.equal(y.end.toISOString(), "2026-03-09T04:00:00.000Z");
  // Paris fell back on Sunday 25 October 2026: Monday the 26th began at +01:00.
  const w = parseTimeWindow("this week", new Date("2026-10-28T10:00:00Z"), "Europe/Paris")!;
  assert.equal(w.start.toISOString(), "2026-10-25T23:00:00.000Z");
  // A local time inside the spring-forward gap moves forward by the gap.
  assert.equal(zonedInstant(NY, 2026, 3, 8, 2, 30).toISOString(), "2026-03-08T07:30:00.000Z");
});

Deno.test("deadlines are read forward from the message, in the user's zone", () => {
  assert.equal(parseDueDate("by Friday 5pm", NOW, NY)?.toISOString(), "2026-12-04T22:00:00.000Z");
  // A date without a time is due at 17:00 local.
  assert.equal(
    parseDueDate("send it tomorrow", NOW, NY)?.toISOString(),
    "2026-12-02T22:00:00.000Z",
  );
  assert.equal(parseDueDate("EOD", NOW, TOKYO)?.toISOString(), "2026-12-02T08:00:00.000Z");
  assert.equal(parseDueDate("whenever you can", NOW, TOKYO), null);
});
