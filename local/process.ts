// Child processes of the local stack: started with their output appended to a log file,
// stopped with a signal and a deadline.
import { join } from "node:path";

export interface Child {
  name: string;
  process: Deno.ChildProcess;
  exited: Promise<Deno.CommandStatus>;
}

export function spawnLogged(
  name: string,
  command: string,
  args: string[],
  opts: { logDir: string; env?: Record<string, string>; cwd?: string },
): Child {
  const process = new Deno.Command(command, {
    args,
    env: opts.env,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const log = (stream: ReadableStream<Uint8Array>) =>
    Deno.open(join(opts.logDir, `${name}.log`), { append: true, create: true })
      .then((file) => stream.pipeTo(file.writable))
      .catch(() => {});
  const piped = Promise.all([log(process.stdout), log(process.stderr)]);
  const exited = piped.then(() => process.status);
  return { name, process, exited };
}

export async function stopChild(child: Child, signal: Deno.Signal = "SIGTERM", waitMs = 10_000) {
  try {
    child.process.kill(signal);
  } catch {
    return; // already gone
  }
  const timer = setTimeout(() => {
    try {
      child.process.kill("SIGKILL");
    } catch { /* gone */ }
  }, waitMs);
  await child.exited;
  clearTimeout(timer);
}

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  command: string,
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<string> {
  const out = await new Deno.Command(command, { args, ...opts, stdin: "null" }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
