// Scenario "chat": time to first token added by Aide over the provider's own (issue 20: p50 <= 5
// ms at one stream; p50 <= 10 ms and p99 <= 40 ms at 50 concurrent streams; p99 <= 150 ms for 50
// sent at once).
//
// The fake provider answers every request with a fixed 200 ms time to first token and a fixed
// token rate. The same request is made through Aide (user JWT, conversation loaded, user
// message stored, assistant row created) and directly to the fake with the official SDK,
// alternating between the two so that both see the same machine:
//   - 1 stream: one request at a time;
//   - 50 streams (the target): 50 clients each sending a new message as soon as their reply
//     ends, so 50 streams are always open; only requests sent once all 50 run are counted;
//   - 50 at once (burst, no target): 50 messages sent at the same instant, the worst case.
// Added latency at percentile p = Aide's TTFT at p minus the direct TTFT at p.
import { type Bench, percentile, type Result, result, sleep, words } from "./lib.ts";
import {
  aideStream,
  type ChatSlot,
  concurrently,
  directStream,
  type StreamTiming,
} from "./streams.ts";

const SHORT = { ttft_ms: 200, tokens_per_sec: 100, text: words(20, 7) };
const LONG = { ttft_ms: 200, tokens_per_sec: 100, text: words(200, 8) }; // ~2.2 s a reply
const SEQUENTIAL_SAMPLES = 30;
const CONCURRENT = 50;
const STEADY_WINDOW_MS = 12_000;
const STEADY_WINDOWS = 2; // per side, alternating
const BURST_ROUNDS = 2; // per side
/** Issue 20's targets for the added TTFT, per load shape and percentile (ms). */
const TARGETS: Record<string, Record<number, string>> = {
  "@1 stream": { 50: "<= 5" },
  [`@${CONCURRENT} streams`]: { 50: "<= 10", 99: "<= 40" },
  [`@${CONCURRENT} sent at once (burst)`]: { 99: "<= 150" },
};

/** `n` clients in a loop for `ms`; keeps the timings of requests sent once all n were running. */
async function steady(n: number, ms: number, send: (client: number) => Promise<StreamTiming>) {
  const staggerMs = 2_500; // about one reply: clients start spread out, not as a herd
  const kept: StreamTiming[] = [];
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    await sleep((staggerMs * i) / n);
    while (performance.now() - t0 < ms) {
      const sentAt = performance.now() - t0;
      const timing = await send(i);
      if (sentAt >= staggerMs) kept.push(timing);
    }
  }));
  return kept;
}

export async function chatTtft(
  b: Bench,
  slots: ChatSlot[],
  note: (t: string) => void,
): Promise<Result[]> {
  if (slots.length < CONCURRENT) throw new Error(`need ${CONCURRENT} conversations`);
  // Each client has its own conversations: a conversation takes one message at a time.
  let next = 0;
  const slot = () => slots[next++ % slots.length];
  const perClient = Math.floor(slots.length / CONCURRENT);
  const clientSlot = (() => {
    const turns = new Map<number, number>();
    return (client: number) => {
      const turn = turns.get(client) ?? 0;
      turns.set(client, turn + 1);
      return slots[client * perClient + (turn % perClient)];
    };
  })();

  // Warm-up (not measured): JIT, connection pools, the fake's and Aide's caches.
  for (let i = 0; i < 5; i++) {
    await aideStream(b, slot(), SHORT);
    await directStream(b, SHORT);
  }
  await concurrently(CONCURRENT, () => aideStream(b, slot(), SHORT));
  await concurrently(CONCURRENT, () => directStream(b, SHORT));

  const one = { aide: [] as StreamTiming[], direct: [] as StreamTiming[] };
  for (let i = 0; i < SEQUENTIAL_SAMPLES; i++) {
    one.aide.push(await aideStream(b, slot(), SHORT));
    one.direct.push(await directStream(b, SHORT));
  }

  const many = { aide: [] as StreamTiming[], direct: [] as StreamTiming[] };
  for (let w = 0; w < STEADY_WINDOWS; w++) {
    const aide = () =>
      steady(CONCURRENT, STEADY_WINDOW_MS, (c) => aideStream(b, clientSlot(c), LONG));
    const direct = () => steady(CONCURRENT, STEADY_WINDOW_MS, () => directStream(b, LONG));
    // Alternate which side goes first, so neither always runs on a machine the other just warmed.
    if (w % 2 === 0) {
      many.aide.push(...await aide());
      many.direct.push(...await direct());
    } else {
      many.direct.push(...await direct());
      many.aide.push(...await aide());
    }
  }

  const burst = { aide: [] as StreamTiming[], direct: [] as StreamTiming[] };
  for (let r = 0; r < BURST_ROUNDS; r++) {
    burst.direct.push(...await concurrently(CONCURRENT, () => directStream(b, SHORT)));
    burst.aide.push(
      ...await concurrently(
        CONCURRENT,
        (i) => aideStream(b, slots[(r * CONCURRENT + i) % slots.length], SHORT),
      ),
    );
  }

  const rows: Result[] = [];
  const cases = [
    ["@1 stream", one],
    [`@${CONCURRENT} streams`, many],
    [`@${CONCURRENT} sent at once (burst)`, burst],
  ] as const;
  for (const [at, runs] of cases) {
    const failed = [...runs.aide, ...runs.direct].filter((t) => !t.ok);
    if (failed.length) note(`${failed.length} failed streams ${at}: ${failed[0].error}`);
    const ttft = (ts: StreamTiming[]) => ts.filter((t) => t.ok).map((t) => t.ttftMs!);
    const aide = ttft(runs.aide);
    const direct = ttft(runs.direct);
    for (const p of [50, 99]) {
      const a = percentile(aide, p);
      const d = percentile(direct, p);
      rows.push(result("chat", `TTFT p${p} ${at}`, a, "ms", { baseline: d }));
      rows.push(result("chat", `added TTFT p${p} ${at}`, a - d, "ms", {
        baseline: d,
        ratio: a / d,
        target: TARGETS[at]?.[p],
      }));
    }
    rows.push(
      result("chat", `failed streams ${at}`, runs.aide.filter((t) => !t.ok).length, "count", {
        baseline: runs.direct.filter((t) => !t.ok).length,
        ratio: null,
        target: "<= 0",
      }),
    );
    // Where Aide's time goes, from the client: headers = auth, rate limit and budget gate, and
    // the prepare transaction; then the provider call and the first token.
    const okAide = runs.aide.filter((t) => t.ok);
    const headers = percentile(okAide.map((t) => t.headersMs), 50);
    note(
      `${at}: ${aide.length} requests through Aide, ${direct.length} direct; Aide p50 response headers ` +
        `${headers.toFixed(1)} ms (auth, gate, prepare transaction), first token ${
          percentile(aide, 50).toFixed(1)
        } ms; ` +
        `direct first token ${
          percentile(direct, 50).toFixed(1)
        } ms (the fake waits ${SHORT.ttft_ms} ms)`,
    );
  }
  return rows;
}
