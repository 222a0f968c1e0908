// Scenario "concurrency": simultaneous SSE streams on one functions process (SPEC §5: >= 200
// with no errors). Streams are opened over a few seconds up to the target count and each lasts
// long enough (~10 s) that all of them are open together. Reported: the most streams open at
// once, errors, the functions process's memory (RSS from /proc, sampled) at the peak against
// its idle RSS, and the p99 TTFT overhead against the same ramp made directly to the provider.
import {
  type Bench,
  functionsDbPorts,
  percentile,
  type Result,
  result,
  rssMb,
  sampleRss,
  sleep,
  words,
} from "./lib.ts";
import {
  aideStream,
  type ChatSlot,
  concurrently,
  directStream,
  type StreamTiming,
} from "./streams.ts";

const STREAMS = 250;
/** Supabase's memory limit for a worker is 256 MB: RSS is also measured at this many streams. */
const LIMIT_STREAMS = 200;
const RAMP_MS = 5_000;
const TOKENS = 300;
const SCRIPT = { ttft_ms: 200, tokens_per_sec: 30, text: words(TOKENS, 17) };

const bad = (ts: StreamTiming[]) => ts.filter((t) => !t.ok || t.tokens !== TOKENS);

/** Runs `n` streams ramped over RAMP_MS; tracks how many are open at once. */
async function ramp(n: number, open: (i: number) => Promise<StreamTiming>) {
  let current = 0;
  let peak = 0;
  const timings = await concurrently(n, async (i) => {
    current++;
    peak = Math.max(peak, current);
    try {
      return await open(i);
    } finally {
      current--;
    }
  }, RAMP_MS);
  return { timings, peak };
}

export async function concurrency(
  b: Bench,
  slots: ChatSlot[],
  note: (t: string) => void,
): Promise<Result[]> {
  if (slots.length < STREAMS) throw new Error(`need ${STREAMS} conversations`);
  const direct = await ramp(STREAMS, () => directStream(b, SCRIPT));
  await sleep(2_000); // let the last replies' bookkeeping settle
  // 200 streams first: RSS (against the memory limit) and the database connections the one
  // instance holds under that load (its pool), sampled every 50 ms.
  const idle = rssMb(b.functionsPid);
  const idleConnections = functionsDbPorts(b).size;
  let connections = 0;
  const connTimer = setInterval(() => {
    try {
      connections = Math.max(connections, functionsDbPorts(b).size);
    } catch { /* process gone */ }
  }, 50);
  const rss200 = sampleRss(b.functionsPid);
  const at200 = await ramp(LIMIT_STREAMS, (i) => aideStream(b, slots[i], SCRIPT));
  const peak200 = rss200.stop();
  clearInterval(connTimer);
  await sleep(2_000);
  const rss = sampleRss(b.functionsPid);
  const aide = await ramp(STREAMS, (i) => aideStream(b, slots[i], SCRIPT));
  const peakRss = rss.stop();
  note(
    `${LIMIT_STREAMS} streams: ${bad(at200.timings).length} errors, peak ${at200.peak} open, ` +
      `functions RSS ${idle.toFixed(0)} MB idle, ${peak200.toFixed(0)} MB at peak; database ` +
      `connections of the functions process: ${idleConnections} idle, ${connections} at most under load`,
  );

  const errors = bad(aide.timings);
  if (errors.length) {
    const kinds = new Map<string, number>();
    for (const e of errors) {
      const k = (e.error ?? `short stream (${e.tokens} tokens)`).slice(0, 80);
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    }
    note(`errors through Aide: ${[...kinds].map(([k, n]) => `${n} x ${k}`).join("; ")}`);
  }
  const ttft = (ts: StreamTiming[]) => ts.filter((t) => t.ok).map((t) => t.ttftMs!);
  const a99 = percentile(ttft(aide.timings), 99);
  const d99 = percentile(ttft(direct.timings), 99);
  const a50 = percentile(ttft(aide.timings), 50);
  const d50 = percentile(ttft(direct.timings), 50);
  note(
    `${STREAMS} streams opened over ${
      RAMP_MS / 1000
    } s, ${TOKENS} tokens each at ${SCRIPT.tokens_per_sec} tokens/s; ` +
      `TTFT p50 ${a50.toFixed(0)} ms through Aide vs ${d50.toFixed(0)} ms direct; ` +
      `p50 time to headers through Aide ${
        percentile(aide.timings.map((t) => t.headersMs), 50).toFixed(0)
      } ms, ` +
      `p99 ${percentile(aide.timings.map((t) => t.headersMs), 99).toFixed(0)} ms`,
  );
  return [
    result(
      "concurrency",
      "peak simultaneous streams (no errors)",
      errors.length ? 0 : aide.peak,
      "streams",
      {
        baseline: bad(direct.timings).length ? 0 : direct.peak,
        target: ">= 200",
      },
    ),
    result("concurrency", `errors in ${STREAMS} streams`, errors.length, "count", {
      baseline: bad(direct.timings).length,
      ratio: null,
      target: "<= 0",
    }),
    result("concurrency", "functions RSS at peak", peakRss, "MB", { baseline: idle }),
    result("concurrency", `functions RSS with ${LIMIT_STREAMS} concurrent streams`, peak200, "MB", {
      baseline: idle,
      target: "<= 256",
    }),
    result(
      "concurrency",
      `database connections per functions instance (${LIMIT_STREAMS} streams)`,
      connections,
      "connections",
      {
        baseline: idleConnections,
        ratio: null,
      },
    ),
    result("concurrency", `added TTFT p99 @${STREAMS} streams`, a99 - d99, "ms", {
      baseline: d99,
      ratio: a99 / d99,
    }),
  ];
}
