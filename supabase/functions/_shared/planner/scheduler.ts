// The scheduler: a deterministic slot finder. The model never picks times; it only explains them.
//
// For each request in order, candidate starts are tried at `stepMinutes` steps of local wall-clock
// time inside the working hours of each working day, from `from` on, in three passes: inside the
// request's preferred time of day and outside the cells the pattern observer says are often
// missed; then any time of day outside those cells; then anywhere. A candidate fits when every
// occurrence it gives inside the window (one for a one-off task, the RRULE's for a recurring one)
// lies on a working day, inside the working hours, outside the quiet hours, and overlaps no busy
// interval (calendar events, existing tasks, and what this run placed before). The first fitting
// candidate wins, so the same input always gives the same slots.
import { occurrencesBetween } from "./recurrence.ts";
import { addDays, at, iso, isoWeekday, localDate, localToInstant, localExists, zonedFromInstant } from "./time.ts";
import {
  type AvoidSlot,
  type Interval,
  minutesOf,
  type PlannerPreferences,
  type ScheduleResult,
  type Slot,
  type SlotRequest,
  type TimeOfDay,
} from "./types.ts";

export interface ScheduleInput {
  requests: SlotRequest[];
  timeZone: string;
  preferences: Pick<PlannerPreferences, "working_hours" | "quiet_hours">;
  busy: Interval[];
  avoid?: AvoidSlot[];
  /** Earliest start, epoch ms. */
  from: number;
  /** Days searched, and the window whose occurrences must all fit. */
  days: number;
  stepMinutes?: number;
}

/** Local minutes of the day each time of day covers, [start, end). */
export const TIME_OF_DAY_MINUTES: Record<Exclude<TimeOfDay, "any">, [number, number]> = {
  morning: [5 * 60, 12 * 60],
  afternoon: [12 * 60, 17 * 60],
  evening: [17 * 60, 22 * 60],
};

const MINUTE = 60_000;

/** Local minutes of the day [start, end) that are quiet: one span, or two when they wrap midnight. */
function quietSpans(q: PlannerPreferences["quiet_hours"]): [number, number][] {
  const s = minutesOf(q.start), e = minutesOf(q.end);
  return s < e ? [[s, e]] : [[s, 24 * 60], [0, e]];
}

const overlaps = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

export function overlapping(span: Interval, busy: Interval[]): Interval[] {
  return busy.filter((b) => span.start < b.end && b.start < span.end);
}

/** Why one occurrence [start, start + duration) does not fit the hours, or null when it does. */
export function hoursProblem(
  start: number,
  durationMinutes: number,
  timeZone: string,
  prefs: ScheduleInput["preferences"],
): string | null {
  const s = zonedFromInstant(start, timeZone);
  const e = zonedFromInstant(start + durationMinutes * MINUTE, timeZone);
  if (!prefs.working_hours.days.includes(s.dayOfWeek)) return "not a working day";
  if (!s.toPlainDate().equals(e.toPlainDate()) && !(e.hour === 0 && e.minute === 0)) {
    return "runs past midnight";
  }
  const startMin = s.hour * 60 + s.minute;
  const endMin = e.hour === 0 && e.minute === 0 && !s.toPlainDate().equals(e.toPlainDate())
    ? 24 * 60
    : e.hour * 60 + e.minute;
  const work: [number, number] = [
    minutesOf(prefs.working_hours.start),
    minutesOf(prefs.working_hours.end),
  ];
  if (startMin < work[0] || endMin > work[1]) return "outside working hours";
  if (quietSpans(prefs.quiet_hours).some((q) => overlaps([startMin, endMin], q))) {
    return "inside quiet hours";
  }
  return null;
}

/** The starts one candidate gives inside the window: itself, or its series' occurrences. */
function startsOf(request: SlotRequest, local: string, timeZone: string, from: number, to: number) {
  if (!request.rrule) return [localToInstant(local, timeZone)];
  return occurrencesBetween({ rrule: request.rrule, startsLocal: local, timeZone }, from, to)
    .map((o) => o.at);
}

export function schedule(input: ScheduleInput): ScheduleResult {
  const step = input.stepMinutes ?? 15;
  const tz = input.timeZone;
  const to = input.from + input.days * 24 * 60 * MINUTE;
  const busy = [...input.busy];
  const avoid = new Set((input.avoid ?? []).map((a) => `${a.weekday}-${a.hour}`));
  const work = input.preferences.working_hours;
  const firstDay = localDate(input.from, tz);
  const result: ScheduleResult = { slots: [], unscheduled: [] };

  for (const request of input.requests) {
    const band = request.preferredTime === "any" ? null : TIME_OF_DAY_MINUTES[request.preferredTime];
    const passes: ((minute: number, weekday: number) => boolean)[] = [
      (m, d) => (!band || (m >= band[0] && m < band[1])) && !avoid.has(`${d}-${Math.floor(m / 60)}`),
      (m, d) => !avoid.has(`${d}-${Math.floor(m / 60)}`),
      () => true,
    ];
    let placed: Slot | null = null;
    let lastProblem = "no working hours in the window";
    const tried = new Set<string>();
    for (const pass of passes) {
      for (let d = 0; d <= input.days && !placed; d++) {
        const date = addDays(firstDay, d);
        const weekday = isoWeekday(date);
        if (!work.days.includes(weekday) && !request.rrule) continue;
        for (
          let m = minutesOf(work.start);
          m + request.durationMinutes <= minutesOf(work.end) && !placed;
          m += step
        ) {
          const local = at(date, `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
          if (tried.has(local) || !pass(m, weekday)) continue;
          tried.add(local);
          if (!localExists(local, tz) || localToInstant(local, tz) < input.from) continue;
          const starts = startsOf(request, local, tz, input.from, to);
          if (starts.length === 0) {
            lastProblem = "the rule has no occurrence in the window";
            continue;
          }
          const spans = starts.map((s) => ({ start: s, end: s + request.durationMinutes * MINUTE }));
          const problem = spans.map((span) =>
            hoursProblem(span.start, request.durationMinutes, tz, input.preferences) ??
              (overlapping(span, busy).length ? "conflicts with busy time" : null)
          ).find((p) => p !== null);
          if (problem) {
            lastProblem = problem;
            continue;
          }
          busy.push(...spans.map((s) => ({ ...s, source: `plan:${request.key}` })));
          placed = {
            key: request.key,
            startLocal: local,
            startAt: iso(localToInstant(local, tz)),
            occurrencesChecked: spans.length,
          };
        }
      }
      if (placed) break;
    }
    if (placed) result.slots.push(placed);
    else result.unscheduled.push({ key: request.key, reason: lastProblem });
  }
  return result;
}
