/**
 * Starts the fake OpenAI and Anthropic servers, in-process (`startFakes`) or
 * as a script:
 *
 *   deno run -A local/fakes/server.ts --openai-port 54331 --anthropic-port 54332
 *
 * which prints `{"openaiUrl":...,"anthropicUrl":...}` on stdout and stops on
 * SIGINT/SIGTERM. Logs are single-line JSON on stderr and never include
 * request headers (so no API keys).
 */
import { parseArgs } from "node:util";
import { createAnthropicHandler } from "./anthropic.ts";
import { createOpenAIHandler } from "./openai.ts";
import { FakeControl } from "./script.ts";
import { DroppedConnection } from "./stream.ts";

export interface Fakes {
  /** Base URL for the openai SDK (ends in `/v1`). */
  openaiUrl: string;
  /** Base URL for @anthropic-ai/sdk (no `/v1`). */
  anthropicUrl: string;
  close(): Promise<void>;
}

export async function startFakes(opts: {
  hostname?: string;
  openaiPort?: number;
  anthropicPort?: number;
  /** Log one JSON line per request on stderr (default false). */
  log?: boolean;
} = {}): Promise<Fakes> {
  const hostname = opts.hostname ?? "127.0.0.1";
  const controls = { openai: new FakeControl(), anthropic: new FakeControl() };
  const serve = (port: number, name: string, handler: (req: Request) => Promise<Response>) =>
    Deno.serve({ hostname, port, onListen() {}, onError }, async (req) => {
      const started = performance.now();
      const res = await handler(req);
      if (opts.log) {
        const { pathname } = new URL(req.url);
        const ms_to_headers = Math.round(performance.now() - started);
        logLine({
          msg: "request",
          server: name,
          method: req.method,
          path: pathname,
          status: res.status,
          ms_to_headers,
        });
      }
      return res;
    });
  const openai = serve(opts.openaiPort ?? 0, "openai", createOpenAIHandler(controls.openai));
  let anthropic: Deno.HttpServer<Deno.NetAddr>;
  try {
    anthropic = serve(
      opts.anthropicPort ?? 0,
      "anthropic",
      createAnthropicHandler(controls.anthropic),
    );
  } catch (err) {
    await openai.shutdown(); // e.g. the anthropic port is taken: do not leave half the fakes running
    throw err;
  }
  return {
    openaiUrl: `http://${hostname}:${openai.addr.port}/v1`,
    anthropicUrl: `http://${hostname}:${anthropic.addr.port}`,
    async close() {
      // End stalls and pacing first: shutdown() waits for in-flight responses.
      controls.openai.close();
      controls.anthropic.close();
      await Promise.all([openai.shutdown(), anthropic.shutdown()]);
    },
  };
}

/** Called by Deno.serve for handler errors and for response bodies that error. */
function onError(err: unknown): Response {
  // Deliberate drops and aborted streams are expected; anything else is a bug worth a line.
  const expected = err instanceof DroppedConnection ||
    (err instanceof DOMException && err.name === "AbortError");
  if (!expected) logLine({ level: "error", msg: String(err) });
  return new Response(null, { status: 500 });
}

function logLine(fields: Record<string, unknown>): void {
  console.error(JSON.stringify({ at: new Date().toISOString(), level: "info", ...fields }));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      hostname: { type: "string" },
      "openai-port": { type: "string" },
      "anthropic-port": { type: "string" },
    },
  });
  const fakes = await startFakes({
    hostname: values.hostname,
    openaiPort: Number(values["openai-port"] ?? 0),
    anthropicPort: Number(values["anthropic-port"] ?? 0),
    log: true,
  }).catch((err) => {
    logLine({ level: "error", msg: `cannot start: ${err}` });
    Deno.exit(1);
  });
  console.log(JSON.stringify({ openaiUrl: fakes.openaiUrl, anthropicUrl: fakes.anthropicUrl }));
  const stop = async () => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await fakes.close();
    logLine({ msg: "stopped" });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
