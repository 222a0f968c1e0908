const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
  const body = await req.text();
  await new Promise((r) => { req.signal.addEventListener("abort", r); setTimeout(r, 600); });
  console.error(Deno.args.join(" ").padEnd(40), "aborted:", req.signal.aborted);
  return Response.json({});
});
const base = `http://127.0.0.1:${server.addr.port}/v1`;
const all = {
  accept: "application/json", authorization: "Bearer t", "content-type": "application/json", "user-agent": "OpenAI/JS 7.57.0",
  "x-stainless-arch": "x64", "x-stainless-lang": "js", "x-stainless-os": "Linux", "x-stainless-package-version": "7.57.0",
  "x-stainless-retry-count": "0", "x-stainless-runtime": "deno", "x-stainless-runtime-version": "2.9.6", "x-stainless-timeout": "0",
};
const [hmode, bmode] = Deno.args;
const headers = hmode === "all" ? all : hmode === "none" ? {} : Object.fromEntries(Object.entries(all).filter(([k]) => k !== hmode));
const body = bmode === "json" ? JSON.stringify({ model: "m", messages: [{ role: "user", content: "sdk" }] }) : "x";
const ctl = new AbortController(); setTimeout(() => ctl.abort(), 100);
await fetch(base + "/chat/completions", { method: "POST", headers, body, signal: ctl.signal }).catch(() => {});
await new Promise(r=>setTimeout(r,700));
await server.shutdown();
