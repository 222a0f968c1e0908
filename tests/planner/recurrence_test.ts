// RRULE expansion in the series' time zone (npm:rrule-temporal): wall-clock times survive DST
// changes, nonexistent local times are dropped (RFC 5545), ambiguous ones take the earlier offset,
// EXDATE removes occurrences, and nothing depends on the server's own time zone.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  nextOccurrence,
  occurrencesBetween,
  ruleProblem,
  type SeriesRule,
} from "../../supabase/functions/_shared/planner/recurrence.ts";
import { instantToLocal, localToInstant } from "../../supabase/functions/_shared/planner/time.ts";

const utc = (s: string) => Date.parse(s);
const all = (series: SeriesRule) =>
  occurrencesBetween(series, utc("2000-01-01T00:00:00Z"), utc("2100-01-01T00:00:00Z"))
    .map((o) => new Date(o.at).toISOString());

Deno.test("recurrence: 09:00 in Berlin stays 09:00 local across the March DST change", () => {
  const daily = {
    rrule: "FREQ=DAILY;COUNT=4",
    startsLocal: "2027-03-26T09:00:00",
    timeZone: "Europe/Berlin",
  };
  assert.deepEqual(all(daily), [
    "2027-03-26T08:00:00.000Z",
    "2027-03-27T08:00:00.000Z",
    "2027-03-28T07:00:00.000Z", // CEST from 28 March
    "2027-03-29T07:00:00.000Z",
  ]);
  const locals = occurrencesBetween(daily, 0, utc("2030-01-01T00:00:00Z")).map((o) => o.local);
  assert.ok(locals.every((l) => l.endsWith("T09:00:00")), String(locals));
});

Deno.test("recurrence: 09:00 in New York stays 09:00 local across both DST changes", () => {
  const weekly = {
    rrule: "FREQ=WEEKLY;BYDAY=SU;COUNT=3",
    startsLocal: "2027-03-07T09:00",
    timeZone: "America/New_York",
  };
  assert.deepEqual(all(weekly), [
    "2027-03-07T14:00:00.000Z", // EST
    "2027-03-14T13:00:00.000Z", // EDT from 14 March
    "2027-03-21T13:00:00.000Z",
  ]);
  const autumn = {
    rrule: "FREQ=DAILY;COUNT=3",
    startsLocal: "2027-11-06T09:00:00",
    timeZone: "America/New_York",
  };
  assert.deepEqual(all(autumn), [
    "2027-11-06T13:00:00.000Z",
    "2027-11-07T14:00:00.000Z", // EST from 7 November
    "2027-11-08T14:00:00.000Z",
  ]);
});

Deno.test("recurrence: a local time that does not exist that day is dropped (RFC 5545), COUNT still counts real ones", () => {
  const early = {
    rrule: "FREQ=DAILY;COUNT=3",
    startsLocal: "2027-03-27T02:30:00",
    timeZone: "Europe/Berlin",
  };
  assert.deepEqual(all(early), [
    "2027-03-27T01:30:00.000Z",
    // 28 March 02:30 does not exist in Berlin: no occurrence that day
    "2027-03-29T00:30:00.000Z",
    "2027-03-30T00:30:00.000Z",
  ]);
});

Deno.test("recurrence: an ambiguous local time (October fall-back) takes the earlier offset", () => {
  const early = {
    rrule: "FREQ=DAILY;COUNT=2",
    startsLocal: "2027-10-31T02:30:00",
    timeZone: "Europe/Berlin",
  };
  assert.deepEqual(all(early), ["2027-10-31T00:30:00.000Z", "2027-11-01T01:30:00.000Z"]);
});

Deno.test("recurrence: EXDATE removes exactly the named local occurrences", () => {
  const series = {
    rrule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=5",
    startsLocal: "2027-03-22T07:30:00",
    timeZone: "Europe/Berlin",
    exdates: ["2027-03-24T07:30:00", "2027-03-29T07:30:00"],
  };
  assert.deepEqual(occurrencesBetween(series, 0, utc("2030-01-01T00:00:00Z")).map((o) => o.local), [
    "2027-03-22T07:30:00",
    "2027-03-26T07:30:00",
    "2027-03-31T07:30:00",
  ]);
});

Deno.test("recurrence: a window returns the occurrences starting inside it; next finds the following one", () => {
  const series = {
    rrule: "FREQ=DAILY",
    startsLocal: "2027-01-01T18:00:00",
    timeZone: "Europe/Berlin",
  };
  const got = occurrencesBetween(series, utc("2027-01-10T17:00:00Z"), utc("2027-01-12T17:00:00Z"));
  assert.deepEqual(got.map((o) => o.local), ["2027-01-10T18:00:00", "2027-01-11T18:00:00"]);
  assert.equal(nextOccurrence(series, utc("2027-01-12T17:00:01Z"))?.local, "2027-01-13T18:00:00");
  const counted = { ...series, rrule: "FREQ=DAILY;COUNT=2" };
  assert.equal(nextOccurrence(counted, utc("2027-01-03T00:00:00Z")), null);
});

Deno.test("recurrence: bad rules are reported, good ones pass", () => {
  const base = { startsLocal: "2027-01-01T09:00:00", timeZone: "Europe/Berlin" };
  assert.equal(ruleProblem({ ...base, rrule: "FREQ=WEEKLY;BYDAY=MO" }), null);
  assert.match(ruleProblem({ ...base, rrule: "FREQ=SOMETIMES" }) ?? "", /invalid RRULE/);
  assert.match(
    ruleProblem({ ...base, rrule: "DTSTART:20270101T000000Z" }) ?? "",
    /without DTSTART/,
  );
});

Deno.test("time: local wall-clock times and instants convert both ways, gaps move forward", () => {
  assert.equal(localToInstant("2027-03-28T02:30:00", "Europe/Berlin"), utc("2027-03-28T01:30:00Z"));
  assert.equal(instantToLocal(utc("2027-03-28T01:30:00Z"), "Europe/Berlin"), "2027-03-28T03:30:00");
  assert.equal(
    instantToLocal(utc("2027-07-01T12:00:00Z"), "America/New_York"),
    "2027-07-01T08:00:00",
  );
});

Deno.test("recurrence: the server's own time zone changes nothing", async () => {
  const script = `
    import { occurrencesBetween } from "${new URL(
    "../../supabase/functions/_shared/planner/recurrence.ts",
    import.meta.url,
  )}";
    const s = { rrule: "FREQ=DAILY;COUNT=4", startsLocal: "2027-03-26T09:00:00", timeZone: "Europe/Berlin" };
    console.log(JSON.stringify(occurrencesBetween(s, 0, Date.parse("2030-01-01")).map((o) => o.at)));`;
  const outputs = new Set<string>();
  for (const tz of ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Australia/Lord_Howe"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--config",
        fileURLToPath(new URL("../../deno.json", import.meta.url)),
        script,
      ],
      env: { TZ: tz },
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    outputs.add(new TextDecoder().decode(out.stdout).trim());
  }
  assert.equal(outputs.size, 1, [...outputs].join("\n"));
  assert.deepEqual(JSON.parse([...outputs][0]).map((ms: number) => new Date(ms).toISOString()), [
    "2027-03-26T08:00:00.000Z",
    "2027-03-27T08:00:00.000Z",
    "2027-03-28T07:00:00.000Z",
    "2027-03-29T07:00:00.000Z",
  ]);
});
