// One edge function in a process of its own, as Supabase's edge runtime gives each function its
// own isolate: its own module state, connection pools and memory limit (the pool starts it with
// V8's heap capped). Started by ./pool.ts:
//
//   deno run -A --v8-flags=--max-old-space-size=256 local/functions/worker.ts <dir> <name> <socket>
//
// It loads <dir>/<name>/index.ts, which calls Deno.serve(handler) (or default-exports { fetch }),
// and serves that handler on the unix socket. EdgeRuntime.waitUntil work is logged while it
// outlives its response, and stopped with the worker at the wall-clock limit, as on Supabase.
// The worker exits when its stdin closes (the gateway that started it is gone).
import { join } from "node:path";

type Handler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

const [dir, name, socket] = Deno.args;
const wallClockMs = Number(Deno.env.get("AIDE_FUNCTION_WALL_CLOCK_MS") ?? 150_000);
const log = (event: Record<string, unknown>) =>
  console.log(JSON.stringify({ at: new Date().toISOString(), function: name, ...event }));

// --- EdgeRuntime.waitUntil -----------------------------------------------------------------
const background = new Set<Promise<unknown>>();
Object.assign(globalThis, {
  EdgeRuntime: {
    waitUntil(promise: Promise<unknown>) {
      const started = Date.now();
      // The platform stops the worker, and its background work, at the wall-clock limit.
      const timer = setTimeout(() => {
        log({
          level: "error",
          msg: "wall clock limit reached: background task stopped with its worker",
          limit_ms: wallClockMs,
        });
        Deno.exit(70);
      }, wallClockMs);
      const tracked = Promise.resolve(promise)
        .catch((e) => log({ level: "error", msg: "waitUntil task failed", error: String(e) }))
        .finally(() => {
          clearTimeout(timer);
          background.delete(tracked);
          log({ msg: "background task finished", ms: Date.now() - started });
        });
      background.add(tracked);
    },
  },
});

// --- Loading the function: capture the handler it passes to Deno.serve -----------------------
const serve = Deno.serve.bind(Deno);
let handler: Handler | undefined;
(Deno as unknown as { serve: unknown }).serve = (...args: unknown[]) => {
  handler = (args.find((a) => typeof a === "function") ??
    (args.find((a) => typeof a === "object" && a && "handler" in a) as { handler?: Handler })
      ?.handler) as Handler | undefined;
  return {
    finished: new Promise(() => {}),
    shutdown: async () => {},
    ref() {},
    unref() {},
    addr: { transport: "unix", path: socket },
  };
};

try {
  const mod = await import(`file://${join(dir, name, "index.ts")}`);
  if (!handler && typeof mod.default?.fetch === "function") {
    handler = mod.default.fetch.bind(mod.default);
  }
  if (!handler) throw new Error("index.ts neither calls Deno.serve nor exports default { fetch }");
} catch (e) {
  log({ level: "error", msg: "function failed to boot", error: String(e) });
  Deno.exit(3); // the pool answers BOOT_ERROR
}

// --- Serving -----------------------------------------------------------------------------------
await Deno.remove(socket).catch(() => {});
serve({ path: socket, transport: "unix", onListen: () => {} }, async (req, info) => {
  try {
    const res = await handler!(req, info);
    if (background.size > 0) {
      log({ msg: "background tasks outlive the response", tasks: background.size });
    }
    return res;
  } catch (e) {
    log({ level: "error", msg: "function threw", error: String(e) });
    return Response.json({ error: { code: "internal", message: "Internal error" } }, {
      status: 500,
    });
  }
});

log({ msg: "function worker ready", pid: Deno.pid });

// Gone with the gateway: its end of our stdin closes when it exits, however it exits.
(async () => {
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  Deno.exit(0);
})();
