// Wall-clock time in a user's IANA time zone, with the Temporal polyfill (Supabase's hosted edge
// runtime has no built-in Temporal). All instants leave this file as epoch milliseconds or ISO
// strings in UTC; local times as "YYYY-MM-DDTHH:MM:SS" without zone.
import { Temporal } from "temporal-polyfill";

export type Zoned = Temporal.ZonedDateTime;

/** "2027-03-26T09:00" or "2027-03-26T09:00:00" as a zoned time; a time that does not exist that
 * day (spring forward) moves forward by the gap, an ambiguous one takes the earlier offset
 * (RFC 5545 3.3.5 for DTSTART, and Temporal's `compatible`). */
export function zonedFromLocal(local: string, timeZone: string): Zoned {
  return Temporal.PlainDateTime.from(local).toZonedDateTime(timeZone, {
    disambiguation: "compatible",
  });
}

/** True when the wall-clock time exists in the zone that day (not inside a DST gap). */
export function localExists(local: string, timeZone: string): boolean {
  const plain = Temporal.PlainDateTime.from(local);
  return zonedFromLocal(local, timeZone).toPlainDateTime().equals(plain);
}

export const localToInstant = (local: string, timeZone: string): number =>
  zonedFromLocal(local, timeZone).epochMilliseconds;

export const zonedFromInstant = (ms: number, timeZone: string): Zoned =>
  Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone);

/** The wall-clock time of an instant in a zone, "YYYY-MM-DDTHH:MM:SS". */
export const instantToLocal = (ms: number, timeZone: string): string =>
  zonedFromInstant(ms, timeZone).toPlainDateTime().toString({ smallestUnit: "second" });

/** The local calendar date of an instant, "YYYY-MM-DD". */
export const localDate = (ms: number, timeZone: string): string =>
  zonedFromInstant(ms, timeZone).toPlainDate().toString();

/** [start, end) of a local calendar day as instants: 23 or 25 hours long on DST days. */
export function localDayBounds(date: string, timeZone: string): { start: number; end: number } {
  const day = Temporal.PlainDate.from(date);
  return {
    start: day.toZonedDateTime({ timeZone }).epochMilliseconds,
    end: day.add({ days: 1 }).toZonedDateTime({ timeZone }).epochMilliseconds,
  };
}

export const addDays = (date: string, days: number): string =>
  Temporal.PlainDate.from(date).add({ days }).toString();

/** ISO weekday (1 = Monday) of a local date. */
export const isoWeekday = (date: string): number => Temporal.PlainDate.from(date).dayOfWeek;

/** The local date and time "date" at "HH:MM". */
export const at = (date: string, hhmm: string): string => `${date}T${hhmm}:00`;

export const iso = (ms: number): string => new Date(ms).toISOString();
