/** Retention: inbox outputs go once every event they cite is gone; prompt records after their window. */
import assert from "node:assert/strict";
import { withDb } from "../_support/chat.ts";
import { records, runJob } from "../scheduled/helpers.ts";
import { WORKSPACES } from "./fixtures/workspaces.ts";
import { workspaceUser } from "./helpers.ts";

Deno.test("retention: summaries, proposals and drafts go when all their cited events are gone", async () => {
  const user = await workspaceUser(WORKSPACES[2]);
  const [a, b] = [user.events.order_question, user.events.supplier];
  await withDb(async (sql) => {
    const refs = (...ids: string[]) => sql.json(ids.map((id) => ({ type: "event", id })));
    const old = sql`now() - interval '2 days'`;
    const [both] = await sql`
      insert into public.summaries (user_id, window_start, window_end, fingerprint, content_json, source_refs, created_at)
      values (${user.userId}, now() - interval '3 days', now() - interval '2 days', 'both', '{}', ${
      refs(a, b)
    }, ${old})
      returning id`;
    const [onlyA] = await sql`
      insert into public.summaries (user_id, window_start, window_end, fingerprint, content_json, source_refs, created_at)
      values (${user.userId}, now() - interval '3 days', now() - interval '2 days', 'a', '{}', ${
      refs(a)
    }, ${old})
      returning id`;
    const [draft] = await sql`
      insert into public.drafts (user_id, kind, content_json, source_refs, source_event_id, created_at)
      values (${user.userId}, 'telegram_reply', '{"text": "yes"}', ${
      refs(a)
    }, ${a}, ${old}) returning id`;
    const [proposal] = await sql`
      insert into public.proposals (user_id, window_start, window_end, content_json, kind, source_refs, created_at)
      values (${user.userId}, now() - interval '3 days', now(), '{}', 'other', ${
      refs(a)
    }, ${old}) returning id`;
    const [fresh] = await sql`
      insert into public.summaries (user_id, window_start, window_end, fingerprint, content_json, source_refs)
      values (${user.userId}, now() - interval '1 hour', now(), 'fresh', '{}', ${
      refs(a)
    }) returning id`;

    const steps = ["inbox_summaries", "inbox_proposals", "inbox_drafts"];
    const exists = async () => {
      const rows = await sql`
        select id from public.summaries where id in (${both.id}, ${onlyA.id}, ${fresh.id})
        union all select id from public.drafts where id = ${draft.id}
        union all select id from public.proposals where id = ${proposal.id}`;
      return new Set(rows.map((r) => r.id));
    };
    let run = await runJob(sql, "retention", { steps });
    assert.ok(Object.values(await records(sql, run)).every((r) => r.status === "done"));
    assert.equal((await exists()).size, 5, "every event they cite is still there");

    await sql`delete from public.events where id = ${a}`;
    run = await runJob(sql, "retention", { steps });
    const left = await exists();
    assert.deepEqual(
      [
        left.has(both.id),
        left.has(onlyA.id),
        left.has(draft.id),
        left.has(proposal.id),
        left.has(fresh.id),
      ],
      [true, false, false, false, true],
      "gone: what cites only the deleted event and is past the grace period",
    );
    assert.equal((await records(sql, run)).inbox_summaries.rows, 1);
  });
});
