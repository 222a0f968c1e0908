const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
  const body = await req.text();
  await new Promise((r) => { req.signal.addEventListener("abort", r); setTimeout(r, 400); });
  console.error(Deno.args.join(" ").padEnd(20), "aborted:", req.signal.aborted);
  return Response.json({});
});
const n = Number(Deno.args[0]);
const ctl = new AbortController(); setTimeout(() => ctl.abort(), 100);
await fetch(`http://127.0.0.1:${server.addr.port}/`, { method: "POST", body: "x".repeat(n), signal: ctl.signal }).catch(() => {});
await new Promise(r=>setTimeout(r,500));
await server.shutdown();
