// Scenario "scale": reads that grow with a user's data, and what a follower of a live reply
// costs the database.
//   - conversation list and message page for one user with 10,000 conversations and a
//     conversation of 10,000 messages (rows inserted with SQL): p95 of
//     `GET /conversations` (first page) and `GET /conversations/:id/messages` (first page and a
//     page deep in the history, through `before`), through the functions, with the user's JWT;
//   - database queries per second per follower: a reply of ~10 s is generated while FOLLOWERS
//     clients follow it (`GET .../messages/:id/stream`, what a second tab or a resumed client
//     does); Postgres's statement log counts the statements from the functions process over the
//     same window of the reply without followers and with them; the difference per follower
//     per second is the figure.
import { issueUserToken } from "../local/token.ts";
import {
  type Bench,
  functionsDbPorts,
  percentile,
  type Result,
  result,
  sleep,
  statementLog,
  words,
} from "./lib.ts";
import { longConversation } from "./overhead.ts";
import { aideStream, type ChatSlot, followStream, MODEL_ALIAS } from "./streams.ts";

const CONVERSATIONS = 10_000;
const MESSAGES = 10_000;
const READS = 100;
const FOLLOWERS = 5;
const REPLY = { ttft_ms: 200, tokens_per_sec: 30, text: words(300, 21) }; // ~10 s
const WINDOW_MS = 6_000; // counted: from 2 s into the reply

async function timedGet(url: string, token: string) {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - t0, body };
}

export async function scale(b: Bench, note: (t: string) => void): Promise<Result[]> {
  const { userId, token } = await issueUserToken(b.cfg, "bench-scale@example.com", {
    sql: b.sql,
    expiresIn: 4 * 3600,
  });
  await b.sql`
    insert into public.conversations (user_id, title, model, last_message_at, created_at)
    select ${userId}, 'bench scale ' || i, ${MODEL_ALIAS},
           now() - i * interval '1 minute', now() - i * interval '1 minute'
    from generate_series(1, ${CONVERSATIONS - 1}) i`;
  const longId = await longConversation(b, userId, MESSAGES);
  await b.sql`analyze public.conversations`;
  await b.sql`analyze public.messages`;

  const list = `${b.functionsUrl}/conversations`;
  const page = `${b.functionsUrl}/conversations/${longId}/messages`;
  // A cursor deep in the history: follow `next_cursor` 100 pages (5,000 messages) back.
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const { body } = await timedGet(
      cursor ? `${page}?before=${encodeURIComponent(cursor)}` : page,
      token,
    );
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  const deep = cursor ? `${page}?before=${encodeURIComponent(cursor)}` : page;
  const times = { list: [] as number[], page: [] as number[], deep: [] as number[] };
  for (let i = 0; i < 5; i++) await timedGet(list, token); // warm
  for (let i = 0; i < READS; i++) {
    times.list.push((await timedGet(list, token)).ms);
    times.page.push((await timedGet(page, token)).ms);
    times.deep.push((await timedGet(deep, token)).ms);
  }
  const p = (xs: number[], q: number) => percentile(xs, q);
  note(
    `${CONVERSATIONS} conversations, one of ${MESSAGES} messages; ${READS} sequential reads each: ` +
      `list p50 ${p(times.list, 50).toFixed(1)} ms, message page p50 ${
        p(times.page, 50).toFixed(1)
      } ms, ` +
      `page 5,000 messages back p50 ${p(times.deep, 50).toFixed(1)} ms${
        cursor ? "" : " (no cursor that deep: first page)"
      }`,
  );

  // Followers of a live reply.
  const slots: ChatSlot[] = (await b.sql<{ id: string }[]>`
    insert into public.conversations (user_id, title, model)
    select ${userId}, 'bench follow ' || i, ${MODEL_ALIAS} from generate_series(1, 3) i
    returning id`).map((r) => ({ userId, token, conversationId: r.id }));
  const countDuring = async (slot: ChatSlot, followers: number) => {
    const log = await statementLog(b);
    let windowFrom = 0;
    const follows: Promise<boolean>[] = [];
    const reply = aideStream(b, slot, REPLY, "Benchmark question", {
      onStart: (messageId) => {
        for (let i = 0; i < followers; i++) follows.push(followStream(b, slot, messageId));
      },
      onFirstToken: () => (windowFrom = Date.now() + 2_000),
    });
    const t = await reply;
    const ok = (await Promise.all(follows)).filter(Boolean).length;
    await sleep(200);
    const ports = functionsDbPorts(b);
    const logged = await log.stop();
    if (!t.ok) throw new Error(`reply failed: ${t.error}`);
    if (ok !== followers) throw new Error(`${followers - ok} of ${followers} followers failed`);
    const n =
      logged.filter((s) => ports.has(s.port) && s.at >= windowFrom && s.at < windowFrom + WINDOW_MS)
        .length;
    return n;
  };
  await countDuring(slots[0], 1); // warm
  const alone = await countDuring(slots[1], 0);
  const followed = await countDuring(slots[2], FOLLOWERS);
  const perFollower = ((followed - alone) / FOLLOWERS) / (WINDOW_MS / 1000);
  note(
    `a ${
      REPLY.text.split(" ").length
    }-token reply at ${REPLY.tokens_per_sec} tokens/s: ${alone} statements ` +
      `from the functions in ${
        WINDOW_MS / 1000
      } s without followers, ${followed} with ${FOLLOWERS}`,
  );

  return [
    result(
      "scale",
      `conversation list p95 (${CONVERSATIONS} conversations)`,
      p(times.list, 95),
      "ms",
      {
        target: "<= 20",
      },
    ),
    result(
      "scale",
      `message page p95 (${MESSAGES}-message conversation)`,
      p(times.page, 95),
      "ms",
      {
        target: "<= 20",
      },
    ),
    result("scale", `message page 5,000 messages back p95`, p(times.deep, 95), "ms", {
      target: "<= 20",
    }),
    result(
      "scale",
      "database queries per second per follower of a live reply",
      perFollower,
      "queries/s",
      {
        target: "<= 1",
      },
    ),
  ];
}
