// Recurring tasks: RFC 5545 RRULEs expanded in the series' IANA time zone with npm:rrule-temporal
// (never rrule.js, whose instants depend on the server's zone). The rule is evaluated on wall-clock
// time: 09:00 stays 09:00 local across DST changes; a generated local time that does not exist that
// day is dropped, as RFC 5545 says; EXDATEs are local starts that do not happen.
import { RRuleTemporal } from "rrule-temporal";
import { instantToLocal } from "./time.ts";

export interface SeriesRule {
  /** The RRULE value, e.g. "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6". */
  rrule: string;
  /** DTSTART as local wall-clock time, "2027-03-26T09:00:00". */
  startsLocal: string;
  timeZone: string;
  /** Local starts of cancelled occurrences. */
  exdates?: string[];
}

export interface Occurrence {
  /** The occurrence's start from the rule (its RECURRENCE-ID), epoch ms. */
  at: number;
  /** The same, as local wall-clock time in the series' zone. */
  local: string;
}

/** Longest list one expansion returns: a guard against rules like a daily one over a century. */
export const MAX_OCCURRENCES = 2000;

const basic = (local: string) => local.replace(/[-:]/g, "").slice(0, 15).padEnd(15, "0");

function rule(series: SeriesRule): RRuleTemporal {
  const tz = series.timeZone;
  const lines = [`DTSTART;TZID=${tz}:${basic(withSeconds(series.startsLocal))}`, `RRULE:${series.rrule}`];
  if (series.exdates?.length) {
    lines.push(`EXDATE;TZID=${tz}:${series.exdates.map((d) => basic(withSeconds(d))).join(",")}`);
  }
  return new RRuleTemporal({ rruleString: lines.join("\n") });
}

const withSeconds = (local: string) => (local.length === 16 ? `${local}:00` : local);

/** Why the rule cannot be used, or null when it can (parsed with the series' start and zone). */
export function ruleProblem(series: SeriesRule): string | null {
  if (/DTSTART|RRULE:|\n/i.test(series.rrule)) return "give the RRULE value only, without DTSTART";
  try {
    rule(series).next(new Date(0), true);
    return null;
  } catch (e) {
    return `invalid RRULE: ${(e as Error).message}`;
  }
}

/** Occurrences starting in [from, to), in order, at most MAX_OCCURRENCES. */
export function occurrencesBetween(series: SeriesRule, from: number, to: number): Occurrence[] {
  if (to <= from) return [];
  const found = rule(series).between(new Date(from), new Date(to - 1), true);
  return found.slice(0, MAX_OCCURRENCES).map((z) => ({
    at: z.epochMilliseconds,
    local: instantToLocal(z.epochMilliseconds, series.timeZone),
  }));
}

/** The first occurrence starting at or after `from`, or null when the rule has none left. */
export function nextOccurrence(series: SeriesRule, from: number): Occurrence | null {
  const z = rule(series).next(new Date(from), true);
  return z ? { at: z.epochMilliseconds, local: instantToLocal(z.epochMilliseconds, series.timeZone) } : null;
}
