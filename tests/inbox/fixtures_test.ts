/**
 * Every fixture prompt through POST /prompts against the fakes: the window is read in the user's
 * own zone (the profile's, not the server's) and the statistics count exactly the fixture events
 * inside it. Intents and actionable events are the real models' part (npm run eval).
 */
import assert from "node:assert/strict";
import { withDb } from "../_support/chat.ts";
import { parseTimeWindow } from "../../supabase/functions/_shared/inbox/window.ts";
import { WORKSPACES } from "./fixtures/workspaces.ts";
import { postPrompt, workspaceUser } from "./helpers.ts";

for (const ws of WORKSPACES) {
  Deno.test(`fixtures: ${ws.name}: windows in ${ws.timeZone}, exact statistics`, async () => {
    const now = new Date();
    const user = await workspaceUser(ws, now);
    for (const p of ws.prompts.filter((p) => p.inWindow)) {
      // Summaries, whatever the router says: the window is what is checked here.
      const res = await postPrompt(user, { prompt: p.prompt, context: { intent: "summarize" } });
      assert.equal(res.status, 200, `${p.prompt}: ${res.text}`);
      const [record] = await withDb((sql) =>
        sql`select created_at, window_start, window_end, window_from, sources
            from public.prompts where id = ${res.body.prompt_id}`
      );
      assert.equal(record.window_from, "prompt", p.prompt);
      // The same phrase read at the request's time in the user's zone gives the same window
      // (up to the milliseconds between the request and its record).
      const expected = parseTimeWindow(p.prompt, record.created_at, ws.timeZone)!;
      assert.ok(
        Math.abs(expected.start.getTime() - record.window_start.getTime()) < 2_000,
        p.prompt,
      );
      assert.ok(Math.abs(expected.end.getTime() - record.window_end.getTime()) < 2_000, p.prompt);
      const sources: string[] | null = record.sources;
      const inside = ws.events.filter((e) => {
        const t = now.getTime() - e.minutesAgo * 60_000;
        return t >= record.window_start.getTime() && t < record.window_end.getTime() &&
          (!sources || sources.includes(e.source));
      });
      assert.equal(res.body.response.content.statistics.total_events, inside.length, p.prompt);
      for (const source of ["slack", "outlook", "telegram"]) {
        assert.equal(
          res.body.response.content.statistics.by_source[source],
          inside.filter((e) => e.source === source).length,
          `${p.prompt}: ${source}`,
        );
      }
    }
  });
}
