// Time: a reminder for 09:00 local fires at the right instant on the days clocks change, and
// quiet hours end at their local time on those days too.
import assert from "node:assert/strict";
import { connect } from "../_support/stack.ts";
import { chain, log, person, pushesTo, settled, task, tick } from "./helpers.ts";

const sql = connect();
const opts = { sanitizeResources: false, sanitizeOps: false };
const utc = (iso: string) => new Date(iso);

for (
  const day of [
    // Europe/Paris springs forward at 02:00 on 28 March 2027 (CET+1 -> CEST+2) ...
    { date: "2027-03-28", start: "2027-03-28T07:00:00Z", quietEnd: "2027-03-28T06:55:00Z" },
    // ... and falls back at 03:00 on 31 October 2027 (CEST+2 -> CET+1).
    { date: "2027-10-31", start: "2027-10-31T08:00:00Z", quietEnd: "2027-10-31T07:55:00Z" },
  ]
) {
  Deno.test(
    `time: 09:00 in Paris on ${day.date} is reminded at 08:50 and after quiet hours at their end`,
    opts,
    async () => {
      const p = await person(sql, { phone: false, timezone: "Europe/Paris" });
      const [{ start }] =
        await sql`select (${day.date}::date + time '09:00') at time zone 'Europe/Paris' as start`;
      assert.equal(start.toISOString(), utc(day.start).toISOString());
      const id = await task(sql, p.id, start, "Standup");

      await tick(sql, new Date(start.getTime() - 10 * 60_000 - 1000), [p]);
      assert.equal((await log(sql, id)).length, 0, "not a second early");
      await tick(sql, new Date(start.getTime() - 10 * 60_000), [p]);
      const [push] = await settled(sql, id);
      assert.equal(push.stage, "push");
      assert.equal(JSON.parse((await pushesTo(p.endpoint!))[0].payload).body, "Starts at 09:00");

      // Quiet hours until 08:55 local: the 08:50 reminder waits until 08:55 local that day.
      const q = await person(sql, { phone: false, timezone: "Europe/Paris" });
      await sql`update public.profiles set preferences = ${
        sql.json({ quiet_hours: { start: "22:00", end: "08:55" } })
      }
              where id = ${q.id}`;
      const id2 = await task(sql, q.id, start, "Standup");
      await tick(sql, new Date(start.getTime() - 10 * 60_000), [q]);
      assert.equal((await log(sql, id2)).length, 0, "in quiet hours");
      assert.equal((await chain(sql, id2)).next_at.toISOString(), utc(day.quietEnd).toISOString());
      await tick(sql, new Date(utc(day.quietEnd).getTime() - 1000), [q]);
      assert.equal((await log(sql, id2)).length, 0);
      await tick(sql, utc(day.quietEnd), [q]);
      assert.deepEqual((await settled(sql, id2)).map((r) => [r.stage, r.status]), [[
        "push",
        "sent",
      ]]);
      // The next stage keeps its spacing from the delayed one: 09:00 local.
      assert.equal((await chain(sql, id2)).next_at.toISOString(), start.toISOString());
    },
  );
}
