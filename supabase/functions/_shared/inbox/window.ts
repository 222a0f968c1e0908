// Time phrases of a prompt ("last 2 hours", "this morning", "since Monday", "yesterday", "this
// week") as a window [start, end) in the user's time zone, deterministically: no model is asked
// what "yesterday" means. chrono-node (npm, no dependencies, English locale only) reads dates
// and times ("Monday", "8am", "Dec 3", "Friday 5pm"); it gives points, not ranges, so the
// ranges are ours: a day named alone is that whole local day, "since X" runs from X to now,
// "last N units" ends now. Windows never reach past now. Local times come from zone.ts, so a
// window across a DST change is still exact.
import * as chrono from "chrono-node/en";
import type { TimeWindow } from "./types.ts";
import { localTime, offsetMinutes, startOfLocalDay, zonedInstant } from "./zone.ts";

const UNIT = "(minute|min|hour|hr|day|week|month)s?";
const COUNT = "(\\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve|couple of)";
const NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  "couple of": 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  twelve: 12,
};

/** "last 2 hours", "past day", "in the last 30 minutes", "over the past couple of days". */
const RELATIVE = new RegExp(`\\b(?:last|past|previous)\\s+(?:${COUNT}\\s+)?${UNIT}\\b`, "i");
/** "the last hour" without a count is one unit. */
const MINUTES: Record<string, number> = {
  minute: 1,
  min: 1,
  hour: 60,
  hr: 60,
  day: 1440,
  week: 10080,
};

/** Parts of a local day, [from hour, to hour). */
const DAY_PARTS: Record<string, [number, number]> = {
  morning: [0, 12],
  afternoon: [12, 18],
  evening: [18, 24],
  tonight: [18, 24],
};

/**
 * The window a prompt names, or null when it names none. `now` is the request time; the
 * user's `timeZone` decides where days, weeks and mornings begin (weeks start on Monday).
 */
export function parseTimeWindow(text: string, now: Date, timeZone: string): TimeWindow | null {
  const found = relative(text, now, timeZone) ?? since(text, now, timeZone) ??
    between(text, now, timeZone) ?? calendar(text, now, timeZone) ?? namedDay(text, now, timeZone);
  if (!found) return null;
  const end = found.end > now ? now : found.end;
  return found.start < end ? { start: found.start, end, phrase: found.phrase } : null;
}

function relative(text: string, now: Date, timeZone: string): TimeWindow | null {
  const m = text.match(RELATIVE);
  if (!m) return null;
  const unit = m[2].toLowerCase();
  // "last week" and "last month" without a count are calendar periods (see calendar()).
  if (m[1] === undefined && /^(?:last|previous)/i.test(m[0]) && /week|month/.test(unit)) {
    return null;
  }
  const count = m[1] === undefined ? 1 : NUMBERS[m[1].toLowerCase()] ?? Number(m[1]);
  if (!(count > 0)) return null;
  if (unit === "month") {
    const l = localTime(now, timeZone);
    const start = zonedInstant(
      timeZone,
      l.year,
      l.month - count,
      l.day,
      l.hour,
      l.minute,
      l.second,
    );
    return { start, end: now, phrase: m[0] };
  }
  return {
    start: new Date(now.getTime() - count * MINUTES[unit] * 60_000),
    end: now,
    phrase: m[0],
  };
}

/** today, yesterday, this morning, last night, this/last week, this/last month. */
function calendar(text: string, now: Date, timeZone: string): TimeWindow | null {
  const t = text.toLowerCase();
  const today = startOfLocalDay(now, timeZone);
  const l = localTime(now, timeZone);
  const at = (days: number, hour: number) =>
    zonedInstant(timeZone, l.year, l.month, l.day + days, hour);
  let m: RegExpMatchArray | null;
  if ((m = t.match(/\bthis (morning|afternoon|evening)\b|\btonight\b/))) {
    const [from, to] = DAY_PARTS[m[1] ?? "tonight"];
    return { start: at(0, from), end: at(0, to), phrase: m[0] };
  }
  if ((m = t.match(/\blast night\b/))) return { start: at(-1, 18), end: at(0, 6), phrase: m[0] };
  if ((m = t.match(/\byesterday (morning|afternoon|evening)\b/))) {
    const [from, to] = DAY_PARTS[m[1]];
    return { start: at(-1, from), end: at(-1, to), phrase: m[0] };
  }
  if ((m = t.match(/\b(?:the day before )?yesterday\b/))) {
    const days = m[0].startsWith("the day before") ? 2 : 1;
    return {
      start: startOfLocalDay(now, timeZone, -days),
      end: startOfLocalDay(now, timeZone, 1 - days),
      phrase: m[0],
    };
  }
  if ((m = t.match(/\btoday\b/))) return { start: today, end: now, phrase: m[0] };
  if ((m = t.match(/\b(this|last|previous) (week|month)\b/))) {
    const back = m[1] === "this" ? 0 : 1;
    if (m[2] === "week") {
      const monday = startOfLocalDay(now, timeZone, -(l.weekday - 1) - 7 * back);
      const next = startOfLocalDay(now, timeZone, -(l.weekday - 1) - 7 * back + 7);
      return { start: monday, end: back ? next : now, phrase: m[0] };
    }
    const first = zonedInstant(timeZone, l.year, l.month - back, 1);
    const next = zonedInstant(timeZone, l.year, l.month - back + 1, 1);
    return { start: first, end: back ? next : now, phrase: m[0] };
  }
  if ((m = t.match(/\b(?:this )?weekend\b/))) {
    const saturday = startOfLocalDay(now, timeZone, 6 - l.weekday - (l.weekday >= 6 ? 0 : 7));
    return { start: saturday, end: startOfLocalDay(saturday, timeZone, 2), phrase: m[0] };
  }
  return null;
}

/** "since Monday", "since 8am", "since yesterday", "since Dec 3": from then until now. */
function since(text: string, now: Date, timeZone: string): TimeWindow | null {
  const m = text.match(/\b(?:since|after)\s+(.+)$/i);
  if (!m) return null;
  const [result] = chrono.parse(m[1], reference(now, timeZone), { forwardDate: false });
  if (!result || result.index !== 0) return null;
  const start = pointOf(result.start, now, timeZone);
  return start &&
    { start, end: now, phrase: `${m[0].slice(0, m[0].length - m[1].length)}${result.text}` };
}

/** "between 9am and noon", "from Monday to Wednesday": a day named alone counts whole. */
function between(text: string, now: Date, timeZone: string): TimeWindow | null {
  const m = text.match(/\b(?:between|from)\s+(.+?)\s+(?:and|to|until|till)\s+(.+?)[?.!]*$/i);
  if (!m) return null;
  const ref = reference(now, timeZone);
  const [from] = chrono.parse(m[1], ref, { forwardDate: false });
  const [to] = chrono.parse(m[2], ref, { forwardDate: false });
  if (!from || !to) return null;
  const start = pointOf(from.start, now, timeZone);
  if (!start) return null;
  const t = to.start;
  let end: Date;
  if (t.isCertain("hour") && !t.isCertain("day") && !t.isCertain("weekday")) {
    // A time alone ends the window on the day it starts.
    const l = localTime(start, timeZone);
    end = zonedInstant(timeZone, l.year, l.month, l.day, t.get("hour")!, t.get("minute") ?? 0);
  } else {
    const point = pointOf(t, now, timeZone) ?? now;
    end = t.isCertain("hour") ? point : startOfLocalDay(point, timeZone, 1);
  }
  return { start, end, phrase: m[0].replace(/[?.!]+$/, "") };
}

/** "on Monday", "Dec 3": the named local day. */
function namedDay(text: string, now: Date, timeZone: string): TimeWindow | null {
  const [result] = chrono.parse(text, reference(now, timeZone), { forwardDate: false });
  if (!result) return null;
  const start = pointOf(result.start, now, timeZone);
  if (!start) return null;
  if (result.end) {
    const end = pointOf(result.end, now, timeZone);
    return end && { start, end, phrase: result.text };
  }
  if (result.start.isCertain("hour")) return null; // a moment ("at 3pm") is not a window
  return { start, end: startOfLocalDay(start, timeZone, 1), phrase: result.text };
}

function reference(now: Date, timeZone: string) {
  return { instant: now, timezone: offsetMinutes(now, timeZone) };
}

/**
 * The instant of what chrono read, rebuilt from its local components in the user's zone (so the
 * offset is the one in effect on that day, not today's). Only a date: its local midnight. A
 * weekday that chrono put in the future ("Friday" on a Tuesday) means the last one.
 */
function pointOf(c: chrono.ParsedResult["start"], now: Date, timeZone: string): Date | null {
  const hasTime = c.isCertain("hour");
  const hour = hasTime ? c.get("hour")! : 0;
  const minute = hasTime ? c.get("minute") ?? 0 : 0;
  const at = (daysBack: number) =>
    zonedInstant(timeZone, c.get("year")!, c.get("month")!, c.get("day")! - daysBack, hour, minute);
  let point = at(0);
  // chrono may read a bare weekday, time or date forward; a window means the last one.
  if (point > now && !c.isCertain("day")) point = at(c.isCertain("weekday") ? 7 : 1);
  if (point > now && !c.isCertain("year")) {
    point = zonedInstant(
      timeZone,
      c.get("year")! - 1,
      c.get("month")!,
      c.get("day")!,
      hour,
      minute,
    );
  }
  return point > now ? null : point;
}

/**
 * A deadline the text gives ("by Friday 5pm", "tomorrow", "Dec 3 at noon"), read forward from
 * `reference` (the message's time) in the user's zone. A date without a time is due at the end
 * of that local working day, 17:00.
 */
export function parseDueDate(text: string, reference: Date, timeZone: string): Date | null {
  const cleaned = text.replace(/\b(?:eod|end of (?:the )?day|cob)\b/gi, "today 5pm");
  const [result] = chrono.parse(cleaned, {
    instant: reference,
    timezone: offsetMinutes(reference, timeZone),
  }, {
    forwardDate: true,
  });
  if (!result) return null;
  const c = result.start;
  const hasTime = c.isCertain("hour");
  return zonedInstant(
    timeZone,
    c.get("year")!,
    c.get("month")!,
    c.get("day")!,
    hasTime ? c.get("hour")! : 17,
    hasTime ? c.get("minute") ?? 0 : 0,
  );
}
