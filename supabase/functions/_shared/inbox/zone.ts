// Wall-clock time in an IANA time zone, with Intl only (Supabase's edge runtime has no
// Temporal): the local date and time of an instant, and the instant of a local date and time,
// DST-correct (a local time that does not exist, 02:30 on a spring-forward day, moves forward
// by the gap; an ambiguous one takes the earlier offset).

export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 1 = Monday ... 7 = Sunday (ISO). */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/** Whether `timeZone` is an IANA name this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function localTime(instant: Date, timeZone: string): LocalTime {
  const parts = Object.fromEntries(
    formatter(timeZone).formatToParts(instant).map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday) + 1,
  };
}

/** Minutes the zone is ahead of UTC at `instant` (New York in winter: -300). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const l = localTime(instant, timeZone);
  const asUtc = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant of a local wall-clock time. Day and month overflow like Date.UTC (day 0 is the
 * last day of the previous month), so callers can add days to a local date.
 */
export function zonedInstant(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): Date {
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Try the offsets around the wall time; keep the earliest instant that shows this wall time.
  const candidates = [-1, 1].map((hours) =>
    wall - offsetMinutes(new Date(wall + hours * 3_600_000 * 12), timeZone) * 60_000
  );
  for (const t of [...new Set(candidates)].sort((a, b) => a - b)) {
    if (wall - offsetMinutes(new Date(t), timeZone) * 60_000 === t) return new Date(t);
  }
  // Inside a DST gap no instant shows this wall time; the offset before the gap moves it
  // forward by the gap's length (02:30 becomes 03:30).
  return new Date(Math.max(...candidates));
}

/** Local midnight of the day `days` after the local day of `instant`. */
export function startOfLocalDay(instant: Date, timeZone: string, days = 0): Date {
  const l = localTime(instant, timeZone);
  return zonedInstant(timeZone, l.year, l.month, l.day + days);
}
