// The local half of the pg_net stand-in (see extensions/pg_net--local.sql). It performs the
// HTTP requests that transactions queued with net.http_post and friends, and records each
// response in net._http_response, as pg_net's background worker does on Supabase. Postgres
// delivers the wake-up NOTIFY only when the enqueuing transaction commits; a slow poll also
// picks up anything queued while the relay was not listening.
import postgres from "postgres";

const BATCH = 100;
const POLL_MS = 1000;

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
  timeout_milliseconds: number;
}

export async function startRelay(dbUrl: string, log: (event: Record<string, unknown>) => void) {
  const sql = postgres(dbUrl, { max: 4, onnotice: () => {} });
  let draining: Promise<void> | null = null;
  let again = false;

  async function send(req: QueuedRequest) {
    const started = Date.now();
    let row;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        signal: AbortSignal.timeout(req.timeout_milliseconds),
      });
      row = {
        status_code: res.status,
        content_type: res.headers.get("content-type"),
        headers: Object.fromEntries(res.headers),
        content: await res.text(),
        timed_out: false,
        error_msg: null,
      };
    } catch (e) {
      const timedOut = e instanceof DOMException && e.name === "TimeoutError";
      row = {
        status_code: null,
        content_type: null,
        headers: null,
        content: null,
        timed_out: timedOut,
        error_msg: timedOut ? `Timeout of ${req.timeout_milliseconds} ms reached` : String(e),
      };
    }
    await sql`insert into net._http_response ${sql({ id: req.id, ...row })}`;
    log({
      event: "pg_net",
      id: req.id,
      method: req.method,
      url: new URL(req.url).pathname,
      status: row.status_code,
      ms: Date.now() - started,
    });
  }

  async function drainQueue() {
    do {
      again = false;
      const batch = await sql<QueuedRequest[]>`
        delete from net.http_request_queue
        where id in (select id from net.http_request_queue order by id limit ${BATCH}
                     for update skip locked)
        returning *`.catch((e) => {
        if (e.code === "42P01") return []; // pg_net not enabled by any migration yet
        throw e;
      });
      await Promise.all(batch.map(send));
      if (batch.length === BATCH) again = true;
    } while (again);
  }

  function wake() {
    if (draining) {
      again = true;
      return;
    }
    draining = drainQueue()
      .catch((e) => log({ event: "pg_net_error", error: String(e) }))
      .finally(() => (draining = null));
  }

  await sql.listen("aide_pg_net", wake);
  const poll = setInterval(wake, POLL_MS);
  wake();

  return {
    async stop() {
      clearInterval(poll);
      await draining;
      await sql.end({ timeout: 2 });
    },
  };
}
