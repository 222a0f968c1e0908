// A user's time zone and planner preferences (profiles.preferences over the defaults in
// app_settings `planner.default_preferences`). The merge is SQL's (private.planner_preferences),
// so the reminders' tick and the planner read the same values.
import { sql } from "../db.ts";
import { PlannerPreferences } from "./types.ts";

export interface PlannerProfile {
  timeZone: string;
  preferences: PlannerPreferences;
  /** False while the user never set their working hours: the orchestrator onboards them. */
  complete: boolean;
}

export async function plannerProfile(userId: string): Promise<PlannerProfile> {
  const [row] = await sql<{ timezone: string; prefs: unknown; own: boolean }[]>`
    select p.timezone, private.planner_preferences(p.id) as prefs,
           p.preferences ? 'working_hours' as own
    from public.profiles p where p.id = ${userId}`;
  const parsed = PlannerPreferences.safeParse(row?.prefs);
  // Stored preferences are validated on the way in; the defaults stand in for anything else.
  const defaults = await sql<{ value: unknown }[]>`
    select value from public.app_settings where key = 'planner.default_preferences'`;
  return {
    timeZone: row?.timezone ?? "UTC",
    preferences: parsed.success ? parsed.data : PlannerPreferences.parse(defaults[0].value),
    complete: Boolean(row?.own),
  };
}
