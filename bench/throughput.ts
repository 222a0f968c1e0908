// Scenario "throughput": streaming throughput through Aide vs direct from the provider (SPEC
// §5: ratio >= 0.98), and the CPU time the functions process spends per 1,000 streamed tokens.
//
// The fake streams long replies at a fixed rate; each client measures tokens per second from
// its first token to its last. CPU time is utime+stime of the functions process (the bench
// stack's local/gateway.ts) from /proc, before and after the Aide rounds; its baseline is the CPU
// this benchmark process spends reading the same tokens straight from the provider with the SDK.
import {
  type Bench,
  cpuSplit,
  cpuTimeMs,
  median,
  type Result,
  result,
  stackCpu,
  words,
} from "./lib.ts";
import {
  aideStream,
  type ChatSlot,
  concurrently,
  directStream,
  type StreamTiming,
  tokensPerSecond,
} from "./streams.ts";

const TOKENS = 400;
const RATE = 200; // tokens per second, a fast model
const STREAMS = 20;
const ROUNDS = 3;
const PACED = { ttft_ms: 200, tokens_per_sec: RATE, text: words(TOKENS, 11) };
const UNPACED = { ttft_ms: 0, text: words(2000, 13) };

export async function throughput(
  b: Bench,
  slots: ChatSlot[],
  note: (t: string) => void,
): Promise<Result[]> {
  let next = 0;
  const slot = () => slots[next++ % slots.length];
  const aide: StreamTiming[] = [];
  const direct: StreamTiming[] = [];
  let aideCpu = 0;
  let directCpu = 0;
  let split = "";
  for (let r = 0; r < ROUNDS; r++) {
    let t = cpuTimeMs(b.functionsPid);
    const before = stackCpu(b);
    aide.push(...await concurrently(STREAMS, () => aideStream(b, slot(), PACED)));
    aideCpu += cpuTimeMs(b.functionsPid) - t;
    if (r === ROUNDS - 1) {
      split = cpuSplit(before, stackCpu(b), (STREAMS * TOKENS) / 1000, "1,000 tokens through Aide");
    }
    t = cpuTimeMs("self");
    direct.push(...await concurrently(STREAMS, () => directStream(b, PACED)));
    directCpu += cpuTimeMs("self") - t;
  }
  const failed = [...aide, ...direct].filter((t) => !t.ok || t.tokens !== TOKENS);
  if (failed.length) {
    note(`${failed.length} streams failed or were short: ${failed[0].error ?? failed[0].tokens}`);
  }
  const rate = (ts: StreamTiming[]) =>
    median(ts.map(tokensPerSecond).filter((x) => x !== null) as number[]);
  const aideRate = rate(aide);
  const directRate = rate(direct);
  const tokens = (ts: StreamTiming[]) => ts.reduce((n, t) => n + t.tokens, 0);

  // As fast as the provider can send: what Aide adds per token shows up here.
  const unpacedDirect = await directStream(b, UNPACED);
  const unpacedAide = await aideStream(b, slot(), UNPACED);
  const span = (t: StreamTiming) => (t.lastTokenMs ?? NaN) - (t.ttftMs ?? NaN);

  note(
    `${STREAMS} streams x ${TOKENS} tokens at ${RATE} tokens/s, ${ROUNDS} rounds each; ` +
      `functions CPU ${aideCpu.toFixed(0)} ms for ${
        tokens(aide)
      } tokens through Aide (last round: ${split}); ` +
      `unpaced ${UNPACED.text.split(" ").length}-token reply: first to last token ${
        span(unpacedAide).toFixed(0)
      } ms ` +
      `through Aide vs ${span(unpacedDirect).toFixed(0)} ms direct`,
  );
  return [
    result(
      "throughput",
      `tokens/s per stream p50 (${STREAMS} streams, ${RATE} tok/s)`,
      aideRate,
      "tokens/s",
      {
        baseline: directRate,
      },
    ),
    result("throughput", "throughput ratio Aide / direct", aideRate / directRate, "ratio", {
      target: ">= 0.98",
    }),
    result(
      "throughput",
      "CPU per 1,000 streamed tokens (functions process)",
      (aideCpu / tokens(aide)) * 1000,
      "ms",
      { baseline: (directCpu / tokens(direct)) * 1000 },
    ),
    result(
      "throughput",
      "unpaced tokens/s, one 2,000-token reply",
      tokensPerSecond(unpacedAide),
      "tokens/s",
      {
        baseline: tokensPerSecond(unpacedDirect),
      },
    ),
    result("throughput", "failed or short streams", failed.length, "count"),
  ];
}
