// Time zones are IANA names (Europe/Paris, America/Argentina/Buenos_Aires, UTC) as Intl knows
// them: profiles.timezone, the chat's time tool, and every module that reasons in local time.
import { z } from "@hono/zod-openapi";

export function isIanaTimeZone(tz: string): boolean {
  if (!/^[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const IanaTimeZone = z.string().max(64).refine(
  isIanaTimeZone,
  "must be an IANA time zone, e.g. Europe/Paris",
);
