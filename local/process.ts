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
  opts: { logDir: string; env?: Record<string, string>; cwd?: string; stdin?: "piped" | "null" },
): Child {
  // The shell redirects and then execs, so the child writes its log itself (nothing is copied
  // through this process) and the pid we signal is the program's own.
  const log = join(opts.logDir, `${name}.log`);
  const process = new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" >>"$AIDE_LOG_FILE" 2>&1', command, ...args],
    env: { ...opts.env, AIDE_LOG_FILE: log },
    cwd: opts.cwd,
    stdin: opts.stdin ?? "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  return { name, process, exited: process.status };
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
