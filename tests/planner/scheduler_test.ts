// The scheduler's slot finder, property-tested over random busy calendars, preferences, zones and
// windows that straddle DST changes in Europe/Berlin and America/New_York. Every found slot (each
// occurrence of a recurring one) is checked with Intl's own zone data, not the scheduler's helpers:
// on a working day, inside working hours, outside quiet hours, overlapping nothing busy and no
// other slot of the same run.
import assert from "node:assert/strict";
import {
  schedule,
  type ScheduleInput,
} from "../../supabase/functions/_shared/planner/scheduler.ts";
import { occurrencesBetween } from "../../supabase/functions/_shared/planner/recurrence.ts";
import type { Interval, SlotRequest } from "../../supabase/functions/_shared/planner/types.ts";

/** A small seeded PRNG (mulberry32): failures are reproducible from the printed seed. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
  };
}

/** Local weekday, date and minutes of the day of an instant, from Intl (independent of Temporal). */
const formats = new Map<string, Intl.DateTimeFormat>();
function local(ms: number, timeZone: string) {
  if (!formats.has(timeZone)) {
    formats.set(
      timeZone,
      new Intl.DateTimeFormat("en-GB", {
        timeZone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        weekday: "short",
        hourCycle: "h23",
      }),
    );
  }
  const parts = Object.fromEntries(
    formats.get(timeZone)!.formatToParts(new Date(ms)).map((p) => [p.type, p.value]),
  );
  const weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday) + 1;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday,
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

const hhmm = (m: number) =>
  `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
const MIN = 60_000;
const DST_DAYS = [
  ["Europe/Berlin", "2027-03-28T00:00:00Z"],
  ["Europe/Berlin", "2027-10-31T00:00:00Z"],
  ["America/New_York", "2027-03-14T05:00:00Z"],
  ["America/New_York", "2027-11-07T04:00:00Z"],
] as const;
const RULES = [
  null,
  null,
  "FREQ=DAILY",
  "FREQ=DAILY;COUNT=5",
  "FREQ=WEEKLY;BYDAY=MO,WE,FR",
  "FREQ=WEEKLY;BYDAY=SU;COUNT=3",
];

function randomInput(seed: number): ScheduleInput {
  const r = random(seed);
  const [timeZone, dst] = r.pick(DST_DAYS);
  const from = Date.parse(dst) - r.int(0, 3) * 86_400_000 + r.int(0, 23) * 3_600_000;
  // Working hours sometimes include the small hours, so DST gaps and repeats fall inside them.
  const workStart = r.pick([0, 60, 120, 7 * 60, 8 * 60, 9 * 60]);
  const workEnd = Math.min(workStart + r.int(4, 14) * 60, 23 * 60 + 45);
  const quietStart = r.pick([21 * 60, 22 * 60, 23 * 60, 12 * 60]);
  const quietEnd = r.pick([0, 60, 6 * 60, 7 * 60, 13 * 60]);
  const days = [1, 2, 3, 4, 5, 6, 7].filter(() => r.next() < 0.8);
  const busy: Interval[] = Array.from({ length: r.int(0, 40) }, (_, i) => {
    const start = from + r.int(0, 10 * 24 * 4) * 15 * MIN + r.int(0, 14) * MIN;
    return { start, end: start + r.int(1, 8) * 15 * MIN, source: `busy:${i}` };
  });
  const requests: SlotRequest[] = Array.from({ length: r.int(1, 6) }, (_, i) => ({
    key: `t${i}`,
    durationMinutes: r.pick([15, 25, 30, 45, 60, 90]),
    rrule: r.pick(RULES),
    preferredTime: r.pick(["morning", "afternoon", "evening", "any"] as const),
  }));
  return {
    requests,
    timeZone,
    preferences: {
      working_hours: { start: hhmm(workStart), end: hhmm(workEnd), days: days.length ? days : [1] },
      quiet_hours: { start: hhmm(quietStart), end: hhmm(quietEnd === quietStart ? 0 : quietEnd) },
    },
    busy,
    avoid: r.next() < 0.5 ? [{ weekday: 1, hour: 9 }, { weekday: 3, hour: 10 }] : [],
    from,
    days: 7,
  };
}

function inQuiet(minute: number, q: { start: string; end: string }) {
  const m = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3));
  const s = m(q.start), e = m(q.end);
  return s < e ? minute >= s && minute < e : minute >= s || minute < e;
}

Deno.test("scheduler: property: slots fit the hours, avoid busy time and each other, on DST days too", () => {
  let placedOccurrences = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const input = randomInput(seed);
    const result = schedule(input);
    const tz = input.timeZone;
    const window = input.from + input.days * 86_400_000;
    const booked: Interval[] = [];
    assert.equal(
      result.slots.length + result.unscheduled.length,
      input.requests.length,
      `seed ${seed}`,
    );
    for (const slot of result.slots) {
      const request = input.requests.find((q) => q.key === slot.key)!;
      const starts = request.rrule
        ? occurrencesBetween(
          { rrule: request.rrule, startsLocal: slot.startLocal, timeZone: tz },
          input.from,
          window,
        )
          .map((o) => o.at)
        : [Date.parse(slot.startAt)];
      assert.ok(starts.length > 0, `seed ${seed} ${slot.key}: no occurrence`);
      assert.equal(starts.length, slot.occurrencesChecked, `seed ${seed} ${slot.key}`);
      for (const start of starts) {
        const end = start + request.durationMinutes * MIN;
        const s = local(start, tz), e = local(end - MIN, tz);
        const why = `seed ${seed} ${slot.key} ${new Date(start).toISOString()} ${tz} ${
          JSON.stringify(input.preferences)
        }`;
        assert.ok(start >= input.from, `${why}: before the window`);
        assert.ok(
          input.preferences.working_hours.days.includes(s.weekday),
          `${why}: not a working day`,
        );
        assert.equal(s.date, e.date, `${why}: crosses midnight`);
        const w = input.preferences.working_hours;
        const [ws, we] = [w.start, w.end].map((x) =>
          Number(x.slice(0, 2)) * 60 + Number(x.slice(3))
        );
        assert.ok(s.minutes >= ws && e.minutes + 1 <= we, `${why}: outside working hours`);
        for (let t = start; t < end; t += 5 * MIN) {
          assert.ok(
            !inQuiet(local(t, tz).minutes, input.preferences.quiet_hours),
            `${why}: inside quiet hours`,
          );
        }
        assert.ok(
          !inQuiet(e.minutes, input.preferences.quiet_hours),
          `${why}: ends inside quiet hours`,
        );
        for (const b of [...input.busy, ...booked]) {
          assert.ok(!(start < b.end && b.start < end), `${why}: overlaps ${b.source}`);
        }
        booked.push({ start, end, source: `slot:${slot.key}` });
        placedOccurrences++;
      }
    }
  }
  assert.ok(placedOccurrences > 300, `the runs placed only ${placedOccurrences} occurrences`);
});

Deno.test("scheduler: the same input gives the same slots", () => {
  for (let seed = 1; seed <= 20; seed++) {
    assert.deepEqual(schedule(randomInput(seed)), schedule(randomInput(seed)));
  }
});

Deno.test("scheduler: a preferred time of day wins when it is free, busy time pushes a task on", () => {
  const base: ScheduleInput = {
    requests: [{ key: "run", durationMinutes: 30, rrule: null, preferredTime: "afternoon" }],
    timeZone: "Europe/Berlin",
    preferences: {
      working_hours: { start: "09:00", end: "18:00", days: [1, 2, 3, 4, 5] },
      quiet_hours: { start: "22:00", end: "07:00" },
    },
    busy: [],
    from: Date.parse("2027-03-29T06:00:00Z"), // Monday 08:00 local
    days: 7,
  };
  assert.equal(schedule(base).slots[0].startLocal, "2027-03-29T12:00:00");
  const busy = [{
    start: Date.parse("2027-03-29T10:00:00Z"),
    end: Date.parse("2027-03-29T11:00:00Z"),
  }];
  assert.equal(schedule({ ...base, busy }).slots[0].startLocal, "2027-03-29T13:00:00");
  const morning = { ...base, requests: [{ ...base.requests[0], preferredTime: "any" as const }] };
  assert.equal(schedule(morning).slots[0].startLocal, "2027-03-29T09:00:00");
  // Monday 09:00 is an often-missed cell: the next free time outside it wins.
  const avoided = schedule({ ...morning, avoid: [{ weekday: 1, hour: 9 }] });
  assert.equal(avoided.slots[0].startLocal, "2027-03-29T10:00:00");
});

Deno.test("scheduler: a recurring task is placed where every occurrence in the window is free", () => {
  const input: ScheduleInput = {
    requests: [{
      key: "gym",
      durationMinutes: 60,
      rrule: "FREQ=WEEKLY;BYDAY=MO,WE",
      preferredTime: "morning",
    }],
    timeZone: "America/New_York",
    preferences: {
      working_hours: { start: "07:00", end: "12:00", days: [1, 2, 3, 4, 5] },
      quiet_hours: { start: "22:00", end: "06:00" },
    },
    // Wednesday 07:00-08:00 local (EDT) is taken: Monday 07:00 cannot be the series' time.
    busy: [{ start: Date.parse("2027-03-17T11:00:00Z"), end: Date.parse("2027-03-17T12:00:00Z") }],
    from: Date.parse("2027-03-15T10:00:00Z"), // Monday 06:00 EDT
    days: 7,
  };
  const { slots, unscheduled } = schedule(input);
  assert.deepEqual(unscheduled, []);
  assert.equal(slots[0].startLocal, "2027-03-15T08:00:00");
  assert.equal(slots[0].occurrencesChecked, 2);
});

Deno.test("scheduler: nothing fits: the request is reported unscheduled with the reason", () => {
  const input: ScheduleInput = {
    requests: [{ key: "long", durationMinutes: 240, rrule: null, preferredTime: "any" }],
    timeZone: "Europe/Berlin",
    preferences: {
      working_hours: { start: "09:00", end: "12:00", days: [1, 2, 3, 4, 5] },
      quiet_hours: { start: "22:00", end: "07:00" },
    },
    busy: [],
    from: Date.parse("2027-03-29T06:00:00Z"),
    days: 7,
  };
  assert.deepEqual(schedule(input), {
    slots: [],
    unscheduled: [{ key: "long", reason: "no working hours in the window" }],
  });
});
