/**
 * Starts the fake OpenAI and Anthropic servers, in-process (`startFakes`) or
 * as a script:
 *
 *   deno run -A local/fakes/server.ts --openai-port 54331 --anthropic-port 54332
 *
 * With --twilio-port (and the Twilio account in the environment: TWILIO_ACCOUNT_SID,
 * TWILIO_AUTH_TOKEN, TWILIO_VERIFY_SERVICE_SID, TWILIO_WHATSAPP_FROM, TWILIO_VOICE_FROM,
 * AIDE_PUBLIC_URL) it also serves the fake Twilio, and with --push-port the fake push service.
 *
 * which prints `{"openaiUrl":...,"anthropicUrl":...}` on stdout and stops on
 * SIGINT/SIGTERM. Logs are single-line JSON on stderr and never include
 * request headers (so no API keys).
 */
import { parseArgs } from "node:util";
import { createAnthropicHandler } from "./anthropic.ts";
import { createOpenAIHandler } from "./openai.ts";
import { createPushHandler } from "./push.ts";
import { createTwilioHandler, type TwilioFakeConfig } from "./twilio.ts";
import { FakeControl } from "./script.ts";
import { DroppedConnection } from "./stream.ts";

export interface Fakes {
  /** Base URL for the openai SDK (ends in `/v1`). */
  openaiUrl: string;
  /** Base URL for @anthropic-ai/sdk (no `/v1`). */
  anthropicUrl: string;
  twilioUrl: string | null;
  pushUrl: string | null;
  close(): Promise<void>;
}

export async function startFakes(opts: {
  hostname?: string;
  openaiPort?: number;
  anthropicPort?: number;
  /** Also serve the fake Twilio for this account (port 0: any free port). */
  twilio?: { port: number; config: TwilioFakeConfig };
  /** Also serve the fake push service. */
  pushPort?: number;
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
  const twilio = opts.twilio
    ? serve(opts.twilio.port, "twilio", createTwilioHandler(opts.twilio.config))
    : null;
  const push = opts.pushPort !== undefined
    ? serve(opts.pushPort, "push", createPushHandler())
    : null;
  return {
    openaiUrl: `http://${hostname}:${openai.addr.port}/v1`,
    anthropicUrl: `http://${hostname}:${anthropic.addr.port}`,
    twilioUrl: twilio ? `http://${hostname}:${twilio.addr.port}` : null,
    pushUrl: push ? `http://${hostname}:${push.addr.port}` : null,
    async close() {
      // End stalls and pacing first: shutdown() waits for in-flight responses.
      controls.openai.close();
      controls.anthropic.close();
      await Promise.all([openai, anthropic, twilio, push].map((s) => s?.shutdown()));
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
      "twilio-port": { type: "string" },
      "push-port": { type: "string" },
    },
  });
  const env = (name: string) => Deno.env.get(name) ?? "";
  const fakes = await startFakes({
    hostname: values.hostname,
    openaiPort: Number(values["openai-port"] ?? 0),
    anthropicPort: Number(values["anthropic-port"] ?? 0),
    twilio: values["twilio-port"]
      ? {
        port: Number(values["twilio-port"]),
        config: {
          accountSid: env("TWILIO_ACCOUNT_SID"),
          authToken: env("TWILIO_AUTH_TOKEN"),
          verifyServiceSid: env("TWILIO_VERIFY_SERVICE_SID"),
          whatsappFrom: env("TWILIO_WHATSAPP_FROM"),
          voiceFrom: env("TWILIO_VOICE_FROM"),
          inboundUrl: `${env("AIDE_PUBLIC_URL")}/functions/v1/reminders/twilio/whatsapp`,
        },
      }
      : undefined,
    pushPort: values["push-port"] ? Number(values["push-port"]) : undefined,
    log: true,
  }).catch((err) => {
    logLine({ level: "error", msg: `cannot start: ${err}` });
    Deno.exit(1);
  });
  const { openaiUrl, anthropicUrl, twilioUrl, pushUrl } = fakes;
  console.log(JSON.stringify({ openaiUrl, anthropicUrl, twilioUrl, pushUrl }));
  const stop = async () => {
    Deno.removeSignalListener("SIGINT", stop);
    Deno.removeSignalListener("SIGTERM", stop);
    await fakes.close();
    logLine({ msg: "stopped" });
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
}
