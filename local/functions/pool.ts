// The edge-functions runtime of the local stack: every function in its own worker process
// (./worker.ts) with its own module state and pools, reached over a unix socket, restarted when
// it dies without touching Postgres, PostgREST or the other functions. Supabase's limits apply,
// with the platform's answers when one is hit:
//
//   memory      256 MB of V8 heap (the worker is started with it)     546 WORKER_LIMIT
//   CPU time    2 s per request (the worker's CPU while the request is in flight)   546
//   wall clock  150 s (free plan; 400 s paid: AIDE_FUNCTIONS_WALL_CLOCK_SECONDS)
//               no response by then: 504; a reply still streaming is cut; waitUntil work stops
//   crash       the worker died some other way                          500 WORKER_ERROR
//   boot        index.ts failed to load                                 503 BOOT_ERROR
//
// A limit stops the whole worker, as the platform stops the isolate: other requests it was
// serving end too. Every 100 ms the worker's CPU time since the last look is shared out among
// the requests in flight; a request charged more than 2 s stops it.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { BIN, ROOT } from "../config.ts";
import { type Child, spawnLogged } from "../process.ts";

export interface Limits {
  memoryMb: number;
  cpuMs: number;
  wallClockMs: number;
}

export const SUPABASE_LIMITS: Limits = { memoryMb: 256, cpuMs: 2000, wallClockMs: 150_000 };

const json = (status: number, body: unknown) => Response.json(body, { status });
const LIMIT_HIT = () =>
  json(546, {
    code: "WORKER_LIMIT",
    message: "Function failed due to not having enough compute resources (please check logs)",
  });
const CRASHED = () =>
  json(500, {
    code: "WORKER_ERROR",
    message: "Function exited due to an error (please check logs)",
  });
const BOOT_FAILED = () =>
  json(503, { code: "BOOT_ERROR", message: "Function failed to start (please check logs)" });

const CLOCK_TICKS_PER_SECOND = 100; // Linux's USER_HZ
/** CPU time (user + system) of a process so far, in ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * The worker's unix socket, in the stack's run folder; Linux caps a socket path at 107 bytes, so
 * a deep checkout's sockets go to a folder in /tmp named after the run folder instead.
 */
export function socketPath(runDir: string, name: string) {
  const path = join(runDir, `${name}.sock`);
  if (new TextEncoder().encode(path).length <= 100) return path;
  const dir = join(
    "/tmp",
    `aide-sockets-${createHash("sha256").update(runDir).digest("hex").slice(0, 12)}`,
  );
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${name.slice(0, 60)}.sock`);
}

interface InFlight {
  started: number;
  /** CPU ms charged to this request: its share of the worker's CPU while it was in flight. */
  cpu: number;
}

type StopReason = "memory" | "cpu" | "wall_clock" | "crash";

class Worker {
  private child: Child | null = null;
  private ready: Promise<boolean> | null = null;
  private client: Deno.HttpClient | null = null;
  private inflight = new Set<InFlight>();
  private stopReason: StopReason | null = null;
  /** Why each stopped worker process stopped, for the requests it was serving. */
  private stopped = new WeakMap<Child, StopReason>();
  private bootFailedAt = 0;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private lastCpu = 0;
  readonly socket: string;

  constructor(
    readonly name: string,
    readonly dir: string,
    private opts: { env: Record<string, string>; logDir: string; runDir: string; limits: Limits },
  ) {
    this.socket = socketPath(opts.runDir, name);
  }

  get pid() {
    return this.child?.process.pid ?? null;
  }

  /** Starts the worker if it is not running; resolves to false when the function cannot boot. */
  start(): Promise<boolean> {
    if (this.ready) return this.ready;
    if (Date.now() - this.bootFailedAt < 1000) return Promise.resolve(false);
    const { limits } = this.opts;
    const child = spawnLogged("functions", BIN.deno, [
      "run",
      "-A",
      `--v8-flags=--max-old-space-size=${limits.memoryMb}`,
      join(ROOT, "local/functions/worker.ts"),
      this.dir,
      this.name,
      this.socket,
    ], {
      logDir: this.opts.logDir,
      env: { ...this.opts.env, AIDE_FUNCTION_WALL_CLOCK_MS: String(limits.wallClockMs) },
      stdin: "piped",
    });
    this.child = child;
    this.stopReason = null;
    Deno.writeTextFileSync(join(this.opts.runDir, `${this.name}.pid`), String(child.process.pid));
    child.exited.then((status) => this.exited(child, status));
    this.ready = this.waitUntilListening(child);
    return this.ready;
  }

  private async waitUntilListening(child: Child): Promise<boolean> {
    let exited = false;
    child.exited.then(() => (exited = true));
    while (!exited) {
      try {
        const conn = await Deno.connect({ transport: "unix", path: this.socket });
        conn.close();
        this.client = Deno.createHttpClient({ proxy: { transport: "unix", path: this.socket } });
        return true;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 25));
    }
    return false;
  }

  private exited(child: Child, status: Deno.CommandStatus) {
    if (this.child !== child) return;
    const oom = status.signal === "SIGTRAP" || status.signal === "SIGABRT" ||
      status.code === 133 || status.code === 134;
    const reason = this.stopReason ?? (oom ? "memory" : "crash");
    this.stopped.set(child, reason);
    const booted = this.client !== null;
    console.log(JSON.stringify({
      at: new Date().toISOString(),
      level: status.code === 0 && !status.signal ? "info" : "error",
      msg: booted ? "function worker stopped; restarting it" : "function failed to boot",
      function: this.name,
      reason,
      code: status.code,
      signal: status.signal,
    }));
    this.client?.close();
    this.client = null;
    this.child = null;
    this.ready = null;
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    if (booted) this.start(); // warm again for the next request, like a fresh isolate
    else this.bootFailedAt = Date.now();
  }

  private kill(reason: StopReason) {
    if (!this.child || this.stopReason) return;
    this.stopReason = reason;
    try {
      this.child.process.kill("SIGKILL");
    } catch { /* already gone */ }
  }

  /** Every 100 ms while requests are in flight: the CPU and wall-clock limits. */
  private watch(pid: number) {
    if (this.watchdog !== undefined) return;
    this.lastCpu = cpuMs(pid);
    this.watchdog = setInterval(() => {
      const pid = this.pid;
      if (!pid || this.inflight.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      const now = Date.now();
      const cpu = cpuMs(pid);
      const share = (cpu - this.lastCpu) / this.inflight.size;
      this.lastCpu = cpu;
      for (const r of this.inflight) {
        r.cpu += share;
        if (r.cpu > this.opts.limits.cpuMs) return this.kill("cpu");
        if (now - r.started > this.opts.limits.wallClockMs) return this.kill("wall_clock");
      }
    }, 100);
  }

  async handle(req: Request, path: string): Promise<Response> {
    if (!(await this.start()) || !this.client || !this.child) return BOOT_FAILED();
    const child = this.child;
    const entry: InFlight = { started: Date.now(), cpu: 0 };
    this.inflight.add(entry);
    this.watch(child.process.pid);
    const done = () => this.inflight.delete(entry);
    // The request body passes through a stream we can stop: a function that answers before
    // reading all of it (413 past a route's limit) must not make the gateway read the rest.
    let uploading = req.body !== null;
    const upload = new AbortController();
    const requestBody = req.body?.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({ flush: () => void (uploading = false) }),
      { signal: upload.signal },
    );
    let res: Response;
    try {
      res = await fetch(`http://function${path}`, {
        method: req.method,
        headers: req.headers,
        body: requestBody,
        redirect: "manual",
        client: this.client,
        signal: req.signal,
      });
      if (uploading && res.status >= 400) {
        const early = new Uint8Array(await res.arrayBuffer());
        done();
        upload.abort();
        return new Response(early, { status: res.status, headers: res.headers });
      }
    } catch {
      done();
      if (req.signal.aborted) return new Response(null, { status: 499 }); // the client left
      await child.exited;
      const reason = this.stopped.get(child);
      if (reason === "wall_clock") {
        return json(504, { code: "TIMEOUT", message: "Function did not respond in time" });
      }
      return reason === "memory" || reason === "cpu" ? LIMIT_HIT() : CRASHED();
    }
    if (!res.body) {
      done();
      return res;
    }
    // The request is in flight until its body has been sent (a streamed reply included).
    const body = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => void done(),
        cancel: () => void done(),
      } as Transformer<Uint8Array, Uint8Array>),
    );
    return new Response(body, {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  async stop() {
    const child = this.child;
    this.child = null;
    this.ready = null;
    clearInterval(this.watchdog);
    if (!child) return;
    try {
      child.process.kill("SIGTERM");
    } catch { /* gone */ }
    await child.exited;
    this.client?.close();
  }
}

/** The functions under `dirs` (folders with an index.ts, not starting with _ or .). */
export function functionsPool(opts: {
  dirs: string[];
  env: Record<string, string>;
  logDir: string;
  runDir: string;
  limits: Limits;
  /** Per-function limits, e.g. a test fixture's short wall clock. */
  overrides?: Record<string, Partial<Limits>>;
}) {
  Deno.mkdirSync(opts.runDir, { recursive: true });
  const workers = new Map<string, Worker>();
  const isFunction = (dir: string, name: string) => {
    if (/^[_.]/.test(name)) return false;
    try {
      return Deno.statSync(join(dir, name, "index.ts")).isFile;
    } catch {
      return false;
    }
  };
  const add = (dir: string, name: string) => {
    const limits = { ...opts.limits, ...opts.overrides?.[name] };
    const worker = new Worker(name, dir, { ...opts, limits });
    workers.set(name, worker);
    return worker;
  };
  for (const dir of opts.dirs) {
    for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory && isFunction(dir, entry.name)) add(dir, entry.name);
    }
  }

  /**
   * Hot reload, like `supabase functions serve`: a change in a function's folder restarts its
   * worker, a change in _shared/ restarts them all, a new folder starts a new function.
   */
  async function reloadOnChange(dir: string) {
    let pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    for await (const event of Deno.watchFs(dir)) {
      for (const path of event.paths) {
        const name = path.slice(dir.length + 1).split("/")[0];
        if (name) pending.add(name);
      }
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const changed = pending;
        pending = new Set();
        const all = [...changed].some((n) => n.startsWith("_"));
        for (const name of all ? workers.keys() : changed) {
          const worker = workers.get(name) ?? (isFunction(dir, name) ? add(dir, name) : null);
          if (!worker) continue;
          console.log(
            JSON.stringify({ at: new Date().toISOString(), msg: "reloading", function: name }),
          );
          await worker.stop();
          await worker.start();
        }
      }, 300);
    }
  }

  return {
    reloadOnChange,
    names: () => [...workers.keys()],
    /** Starts every worker (at boot, so the first request does not pay for it). */
    startAll: () => Promise.all([...workers.values()].map((w) => w.start())),
    get: (name: string) => workers.get(name),
    stopAll: () => Promise.all([...workers.values()].map((w) => w.stop())),
  };
}
