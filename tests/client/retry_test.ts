// The SDK's retry policy and auth, against a loopback server that answers as scripted
// (statuses, Retry-After, dropped connections), and against the live stack's rate limit.
import assert from "node:assert/strict";
import { connect, env } from "../_support/stack.ts";
import { createAideClient, retryDelayMs, type RetryInfo } from "../../packages/client/src/index.ts";
import { failure, userClient } from "./helpers.ts";

interface Seen {
  method: string;
  authorization: string | null;
}

/** Serves /functions/v1/health with the scripted answers, one per request (the last repeats). */
async function scriptedServer(
  answers: (() => Response)[],
  run: (url: string, seen: Seen[]) => Promise<void>,
) {
  const seen: Seen[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      seen.push({
        method: req.method,
        authorization: req.headers.get("authorization"),
      });
      return answers[Math.min(seen.length, answers.length) - 1]();
    },
  );
  try {
    await run(`http://127.0.0.1:${server.addr.port}`, seen);
  } finally {
    await server.shutdown();
  }
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
const ok = json(200, { status: "ok" });
const limited = (retryAfter: string) =>
  json(429, {
    error: {
      code: "rate_limited",
      message: "Slow down",
      details: { retry_after_seconds: 1 },
    },
  }, {
    "retry-after": retryAfter,
  });

Deno.test("retry: 429 waits for Retry-After, then succeeds", async () => {
  await scriptedServer([limited("0.3"), ok], async (url, seen) => {
    const retries: RetryInfo[] = [];
    const aide = createAideClient({
      url,
      accessToken: "t",
      onRetry: (r) => retries.push(r),
    });
    const started = performance.now();
    assert.deepEqual(await aide.health(), { status: "ok" });
    assert.equal(seen.length, 2);
    assert.ok(performance.now() - started >= 290, "waited the Retry-After");
    assert.deepEqual(retries.map((r) => [r.attempt, r.status, r.delayMs]), [[
      1,
      429,
      300,
    ]]);
  });
});

Deno.test("retry: 503 is retried with backoff; after `retries` the error is thrown", async () => {
  await scriptedServer(
    [json(503, { error: { code: "unavailable", message: "Busy" } })],
    async (url, seen) => {
      const aide = createAideClient({
        url,
        accessToken: "t",
        retries: 2,
        maxRetryDelayMs: 50,
      });
      const error = await failure(aide.health());
      assert.equal(seen.length, 3, "the first try and two retries");
      assert.deepEqual([error.status, error.code, error.message], [
        503,
        "unavailable",
        "Busy",
      ]);
    },
  );
});

Deno.test("retry: other 4xx and 5xx are never retried", async () => {
  for (const status of [400, 401, 402, 403, 404, 409, 422, 500, 502]) {
    await scriptedServer(
      [json(status, { error: { code: `c${status}`, message: "no" } }), ok],
      async (url, seen) => {
        const aide = createAideClient({ url, accessToken: "t" });
        const error = await failure(aide.health());
        assert.equal(seen.length, 1, `${status} is not retried`);
        assert.equal(error.code, `c${status}`);
      },
    );
  }
});

Deno.test("retry: a Retry-After longer than maxRetryDelayMs is not waited for", async () => {
  await scriptedServer([limited("3600"), ok], async (url, seen) => {
    const aide = createAideClient({ url, accessToken: "t" });
    const error = await failure(aide.health());
    assert.equal(seen.length, 1);
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limited");
  });
});

Deno.test("retry: Retry-After as an HTTP date; backoff grows and stays under the cap", () => {
  const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
  const delay = retryDelayMs(
    new Response(null, { headers: { "retry-after": inTwoSeconds } }),
    0,
    30_000,
  )!;
  assert.ok(delay > 900 && delay <= 2000, `${delay}`);
  for (let attempt = 0; attempt < 8; attempt++) {
    const d = retryDelayMs(null, attempt, 4000)!;
    assert.ok(d >= 0 && d <= Math.min(4000, 500 * 2 ** attempt));
  }
});

Deno.test("retry: a network error is retried for GET only", async () => {
  let calls = 0;
  const flaky: typeof fetch = (input, init) => {
    calls++;
    return calls === 1 ? Promise.reject(new TypeError("connection reset")) : fetch(input, init);
  };
  await scriptedServer([ok], async (url) => {
    const retries: RetryInfo[] = [];
    const aide = createAideClient({
      url,
      accessToken: "t",
      fetch: flaky,
      maxRetryDelayMs: 20,
      onRetry: (r) => retries.push(r),
    });
    assert.deepEqual(await aide.health(), { status: "ok" });
    assert.equal(calls, 2);
    assert.deepEqual(retries.map((r) => [r.attempt, r.status]), [[1, 0]]);
    calls = 0;
    const error = await failure(aide.conversations.create({ title: "x" }));
    assert.equal(calls, 1, "a POST is not sent twice");
    assert.equal(error.code, "network_error");
  });
});

Deno.test("auth: the token is read from the session on every request; a 401 refreshes once", async () => {
  let session = { access_token: "first" };
  let refreshes = 0;
  const supabase = {
    auth: {
      getSession: () => Promise.resolve({ data: { session } }),
      refreshSession: () => {
        refreshes++;
        session = { access_token: "refreshed" };
        return Promise.resolve({ data: { session } });
      },
    },
  };
  const unauthorized = json(401, { code: 401, message: "Invalid JWT" });
  await scriptedServer([ok, unauthorized, ok], async (url, seen) => {
    const aide = createAideClient({ url, supabase });
    await aide.health();
    session = { access_token: "second" }; // supabase-js refreshed it in the background
    await aide.health(); // 401, refresh, retry
    assert.deepEqual(seen.map((s) => s.authorization), [
      "Bearer first",
      "Bearer second",
      "Bearer refreshed",
    ]);
    assert.equal(refreshes, 1);
  });
  await scriptedServer([unauthorized], async (url, seen) => {
    const error = await failure(createAideClient({ url, supabase }).health());
    assert.equal(
      seen.length,
      2,
      "refreshed once, then the 401 is the caller's",
    );
    assert.deepEqual([error.status, error.code, error.message], [
      401,
      "unauthorized",
      "Invalid JWT",
    ]);
  });
});

Deno.test("retry: the live stack's rate limit (429 with Retry-After) is waited out", async () => {
  const { token, userId } = await userClient();
  const sql = connect();
  try {
    // One write a second, and the next few one-second windows already used up: the first create
    // is refused however slowly the machine runs (it reaches the database within those windows),
    // and the client waits each Retry-After (at most 1 s) until a window is free.
    const windows = 5;
    await sql`update public.profiles set rate_limits = '{"write": {"requests": 1, "window_seconds": 1}}'
              where id = ${userId}`;
    await sql`insert into public.rate_limit_counters (user_id, route_class, window_start, count)
              select ${userId}, 'write', to_timestamp(floor(extract(epoch from now())) + s), 1
              from generate_series(0, ${windows - 1}) s`;
    const retries: RetryInfo[] = [];
    const aide = createAideClient({
      url: env.SUPABASE_URL,
      accessToken: token,
      retries: windows + 3,
      onRetry: (r) => retries.push(r),
    });
    for (const title of ["one", "two"]) {
      await aide.conversations.create({ title });
    }
    assert.ok(
      retries.length >= 1,
      "a create was refused with 429 and sent again",
    );
    assert.ok(retries.every((r) => r.status === 429 && r.delayMs <= 1000));
    const [{ n }] =
      await sql`select count(*)::int as n from public.conversations where user_id = ${userId}`;
    assert.equal(n, 2, "each create stored once");
  } finally {
    await sql.end();
  }
});
