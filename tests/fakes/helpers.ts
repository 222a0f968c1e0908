/** Shared helpers for the fake-provider tests. */
import { type Fakes, startFakes } from "../../local/fakes/server.ts";
import type { LogEntry, Script } from "../../local/fakes/script.ts";

/** A Deno test with its own fake servers on free ports, closed afterwards. */
export function fakeTest(name: string, fn: (fakes: Fakes) => Promise<void>): void {
  Deno.test(name, async () => {
    const fakes = await startFakes();
    try {
      await fn(fakes);
    } finally {
      await fakes.close();
    }
  });
}

/** Calls a `/__fake/*` control route of the server behind `baseUrl`. */
export async function control(baseUrl: string, method: string, path: string, body?: unknown) {
  const res = await fetch(new URL(path, baseUrl), {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

export function queueScript(
  baseUrl: string,
  entry: { script: Script; match?: { model?: string; contains?: string }; times?: number },
): Promise<unknown> {
  return control(baseUrl, "POST", "/__fake/scripts", entry);
}

export function requestLog(baseUrl: string, contains?: string): Promise<LogEntry[]> {
  const query = contains === undefined ? "" : `?contains=${encodeURIComponent(contains)}`;
  return control(baseUrl, "GET", `/__fake/requests${query}`);
}

/** Header that scripts one request. */
export function scriptHeader(script: Script): { "x-fake-script": string } {
  return { "x-fake-script": JSON.stringify(script) };
}

/** Rejects if `promise` takes longer than `ms`, so a hanging stream fails the test instead of hanging it. */
export async function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls the request log until `check` passes (the server sees disconnects asynchronously). */
export async function eventually(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function cosine(a: number[], b: number[]): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}
