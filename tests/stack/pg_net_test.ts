// The pg_net stand-in behaves like pg_net: a request queued in a transaction (here from a
// trigger) is sent after the commit, never before and never on rollback, and its response is
// recorded in net._http_response.
import assert from "node:assert/strict";
import { connect, env, FUNCTIONS_URL, until } from "../_support/stack.ts";

Deno.test("net.http_post from a trigger is sent after commit, not before, and not on rollback", async () => {
  const received: { marker: string; at: number }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const body = await req.json();
    received.push({ marker: body.marker, at: Date.now() });
    return Response.json({ got: body.marker });
  });
  const sql = connect();
  const schema = `net_test_${crypto.randomUUID().slice(0, 8)}`;
  try {
    await sql.unsafe(`create schema ${schema}`);
    await sql.unsafe(`create table ${schema}.events (marker text)`);
    await sql.unsafe(`
      create function ${schema}.notify() returns trigger language plpgsql as $$
      begin
        perform net.http_post(
          url := 'http://127.0.0.1:${server.addr.port}/hook',
          body := jsonb_build_object('marker', new.marker));
        return new;
      end $$`);
    await sql.unsafe(`create trigger notify after insert on ${schema}.events
                      for each row execute function ${schema}.notify()`);

    let committedAt = 0;
    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${schema}.events values ('committed')`);
      await tx`select pg_sleep(1)`;
      assert.equal(received.length, 0, "sent before the transaction committed");
      committedAt = Date.now();
    });
    await until(
      "the committed request",
      () => Promise.resolve(received.find((r) => r.marker === "committed")),
    );
    assert.ok(received[0].at >= committedAt);

    await sql.begin(async (tx) => {
      await tx.unsafe(`insert into ${schema}.events values ('rolled-back')`);
      throw new Error("roll back");
    }).catch((e) => assert.equal(e.message, "roll back"));
    await new Promise((r) => setTimeout(r, 1500)); // longer than the relay's poll interval
    assert.deepEqual(received.map((r) => r.marker), ["committed"]);

    const [response] = await until(
      "the recorded response",
      () =>
        sql`select status_code, content from net._http_response
          where content like '%"got":"committed"%'`.then((rows) => rows.length ? rows : null),
    );
    assert.equal(response.status_code, 200);
  } finally {
    await sql.unsafe(`drop schema if exists ${schema} cascade`);
    await sql.end();
    await server.shutdown();
  }
});

Deno.test("a request queued by the database reaches an edge function", async () => {
  const sql = connect();
  try {
    const [{ id }] = await sql`
      select net.http_get(
        url := ${`${FUNCTIONS_URL}/health`},
        headers := ${sql.json({ authorization: `Bearer ${env.SUPABASE_ANON_KEY}` })}) as id`;
    const [response] = await until(
      "the function's response",
      () =>
        sql`select status_code, content from net._http_response where id = ${id}`
          .then((rows) => rows.length ? rows : null),
    );
    assert.equal(response.status_code, 200);
    assert.equal(JSON.parse(response.content).status, "ok");
  } finally {
    await sql.end();
  }
});
