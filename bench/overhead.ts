// Scenario "overhead": what one chat send costs before the provider is called, and whether a
// long conversation makes it cost more.
//   - database statements between the request and the provider call, counted from what
//     Postgres sees: its statement log (`log_statement = 'all'`, time and client port per line)
//     is turned on for the scenario, and the statements from the functions process's
//     connections (matched by client port) logged from the moment the request is sent until
//     the fake provider received the call (first token minus the fake's fixed wait) are counted;
//   - functions CPU per chat request before the provider call: utime+stime of the functions
//     process (/proc) from the request to the first token, one request at a time, averaged (the
//     process is idle while it waits for the provider);
//   - time to first token added with a 2,000-message conversation, against the added TTFT of an
//     empty one (history is never loaded whole); both alternate with the direct baseline.
import { issueUserToken } from "../local/token.ts";
import {
  type Bench,
  cpuTimeMs,
  functionsDbPorts,
  mean,
  median,
  type Result,
  result,
  statementLog,
  words,
} from "./lib.ts";
import {
  aideStream,
  type ChatSlot,
  directStream,
  MODEL_ALIAS,
  type StreamTiming,
} from "./streams.ts";

const WAIT_MS = 300; // the fake's time to first token
const SCRIPT = { ttft_ms: WAIT_MS, tokens_per_sec: 200, text: words(10, 3) };
const COUNTED_SENDS = 10;
const CPU_SENDS = 40;
const HISTORY = 2_000;
const HISTORY_SAMPLES = 20;

/** A conversation of `n` finished messages (a chain, user and assistant in turn) for `userId`. */
export async function longConversation(b: Bench, userId: string, n: number): Promise<string> {
  const [{ id }] = await b.sql<{ id: string }[]>`
    insert into public.conversations (user_id, title, model)
    values (${userId}, 'bench long', ${MODEL_ALIAS}) returning id`;
  const [{ leaf }] = await b.sql<{ leaf: string }[]>`
    with ids as (
      select i, gen_random_uuid() as mid from generate_series(1, ${n}) i
    ), inserted as (
      insert into public.messages
        (id, conversation_id, user_id, parent_id, role, status, parts, content, created_at,
         updated_at, completed_at)
      select mid, ${id}, ${userId}, lag(mid) over (order by i),
             case when i % 2 = 1 then 'user' else 'assistant' end, 'complete',
             jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'message ' || i || ' ' || md5(i::text))),
             'message ' || i || ' ' || md5(i::text),
             now() - interval '1 day' + i * interval '10 ms',
             now() - interval '1 day' + i * interval '10 ms',
             now() - interval '1 day' + i * interval '10 ms'
      from ids
      returning id, created_at
    )
    select id as leaf from inserted order by created_at desc limit 1`;
  await b.sql`update public.conversations set active_leaf_id = ${leaf}, last_message_at = now()
              where id = ${id}`;
  // What autovacuum does within a minute of a bulk insert: fresh statistics (and so fresh plans
  // in the functions' sessions, whose cached plans were made when the table was nearly empty).
  await b.sql`analyze public.messages`;
  return id;
}

export async function overhead(b: Bench, note: (t: string) => void): Promise<Result[]> {
  const { userId, token } = await issueUserToken(b.cfg, "bench-overhead@example.com", {
    sql: b.sql,
    expiresIn: 4 * 3600,
  });
  const fresh = async (n: number): Promise<ChatSlot[]> =>
    (await b.sql<{ id: string }[]>`
      insert into public.conversations (user_id, title, model)
      select ${userId}, 'bench overhead ' || i, ${MODEL_ALIAS} from generate_series(1, ${n}) i
      returning id`).map((r) => ({ userId, token, conversationId: r.id }));
  const empties = await fresh(COUNTED_SENDS + CPU_SENDS + HISTORY_SAMPLES + 5);
  let nextEmpty = 0;
  const empty = () => empties[nextEmpty++];

  // Warm-up: JIT, pools, the per-instance caches.
  for (let i = 0; i < 5; i++) await aideStream(b, empty(), SCRIPT);

  // 1. Statements before the provider call, one send at a time.
  const log = await statementLog(b);
  await aideStream(b, empty(), SCRIPT); // the first after the reload: not counted
  const windows: { from: number; to: number; start: number }[] = [];
  for (let i = 0; i < COUNTED_SENDS; i++) {
    const sentAt = Date.now();
    let startAt = NaN;
    let firstAt = NaN;
    const t = await aideStream(b, empty(), SCRIPT, "Benchmark question", {
      onStart: () => (startAt = Date.now()),
      onFirstToken: () => (firstAt = Date.now()),
    });
    if (!t.ok) throw new Error(`send failed: ${t.error}`);
    windows.push({ from: sentAt, to: firstAt - WAIT_MS, start: startAt });
  }
  const ports = new Set([...functionsDbPorts(b), ...functionsDbPorts(b, b.gatewayPid)]);
  const logged = (await log.stop()).filter((s) => ports.has(s.port));
  const counts = windows.map((w) => logged.filter((s) => s.at >= w.from && s.at <= w.to).length);
  const beforeStart = windows.map((w) =>
    logged.filter((s) => s.at >= w.from && s.at <= w.start).length
  );
  const sample = logged.filter((s) => s.at >= windows[0].from && s.at <= windows[0].to)
    .map((s) => s.text.replace(/\s+/g, " ").slice(0, 60));
  note(
    `statements from the functions process between the request and the provider call, per send: ${
      counts.join(", ")
    } (until the \`start\` chunk: ${median(beforeStart)}); one send's, in order: ${
      sample.join(" | ")
    }`,
  );

  // 2. Functions CPU before the provider call.
  const cpu: number[] = [];
  const gatewayCpu: number[] = [];
  for (let i = 0; i < CPU_SENDS; i++) {
    const before = cpuTimeMs(b.functionsPid);
    const gatewayBefore = cpuTimeMs(b.gatewayPid);
    let atFirst = NaN;
    let gatewayAtFirst = NaN;
    const t = await aideStream(b, empty(), SCRIPT, "Benchmark question", {
      onFirstToken: () => {
        atFirst = cpuTimeMs(b.functionsPid);
        gatewayAtFirst = cpuTimeMs(b.gatewayPid);
      },
    });
    if (t.ok) {
      cpu.push(atFirst - before);
      gatewayCpu.push(gatewayAtFirst - gatewayBefore);
    }
  }

  // 3. A 2,000-message conversation against an empty one, each beside the direct baseline.
  const long = { userId, token, conversationId: await longConversation(b, userId, HISTORY) };
  const runs = {
    long: [] as StreamTiming[],
    empty: [] as StreamTiming[],
    direct: [] as StreamTiming[],
  };
  await aideStream(b, long, SCRIPT); // warm: the first read of a cold conversation
  for (let i = 0; i < HISTORY_SAMPLES; i++) {
    runs.long.push(await aideStream(b, long, SCRIPT));
    runs.empty.push(await aideStream(b, empty(), SCRIPT));
    runs.direct.push(await directStream(b, SCRIPT));
  }
  const ttft = (ts: StreamTiming[]) => median(ts.filter((t) => t.ok).map((t) => t.ttftMs!));
  const direct = ttft(runs.direct);
  const addedLong = ttft(runs.long) - direct;
  const addedEmpty = ttft(runs.empty) - direct;
  note(
    `TTFT p50: ${HISTORY}-message conversation ${ttft(runs.long).toFixed(1)} ms, empty ${
      ttft(runs.empty).toFixed(1)
    } ms, direct ${direct.toFixed(1)} ms (${HISTORY_SAMPLES} each, alternating); functions CPU ` +
      `before the first token, ${cpu.length} sends: the conversations worker ${
        mean(cpu).toFixed(1)
      } ms ` +
      `a send (the figure), the local gateway in front of it (JWT check, proxy; the platform's ` +
      `on Supabase) ${
        mean(gatewayCpu).toFixed(1)
      } ms (/proc readings come in 10 ms ticks: means only)` +
      (b.functionsPid === b.gatewayPid ? "; this stack runs every function in the gateway" : ""),
  );
  return [
    result(
      "overhead",
      "database statements between request and provider call (one send)",
      median(counts),
      "count",
      {
        target: "<= 2",
      },
    ),
    result("overhead", "functions CPU per chat request before the provider call", mean(cpu), "ms", {
      target: "<= 3",
    }),
    result("overhead", `added TTFT p50, ${HISTORY}-message conversation`, addedLong, "ms", {
      baseline: addedEmpty,
    }),
    result(
      "overhead",
      `added TTFT ratio, ${HISTORY}-message vs empty conversation`,
      addedLong / addedEmpty,
      "ratio",
      {
        target: "<= 1.5",
      },
    ),
  ];
}
