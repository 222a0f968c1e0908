// A test fixture served only by the test stacks (tests/functions): an edge function that breaks
// Supabase's limits on request, to check the local runtime stops it as the platform does.
//   GET /limits-probe/state         a module-level counter (isolation: no other function sees it)
//   GET /limits-probe/alloc?mb=N    keeps N MB of JS arrays alive
//   GET /limits-probe/spin?ms=N     burns N ms of CPU time (not wall time: the machine is shared)
//   GET /limits-probe/sleep?ms=N    answers after N ms of waiting (no CPU)
//   GET /limits-probe/background?ms=N  answers at once, keeps EdgeRuntime.waitUntil work for N ms
//   GET /limits-probe/crash         exits the process mid-request
import process from "node:process";

let requests = 0;
const kept: number[][] = [];

declare const EdgeRuntime: { waitUntil(p: Promise<unknown>): void };

Deno.serve(async (req) => {
  const url = new URL(req.url);
  const n = Number(url.searchParams.get("ms") ?? url.searchParams.get("mb") ?? 0);
  requests++;
  switch (url.pathname.split("/")[2]) {
    case "state":
      return Response.json({ requests, pid: Deno.pid });
    case "alloc":
      for (let i = 0; i < n; i++) kept.push(new Array(128 * 1024).fill(i)); // ~1 MB each
      return Response.json({ kept: kept.length });
    case "spin": {
      const start = process.cpuUsage();
      const used = () => {
        const d = process.cpuUsage(start);
        return (d.user + d.system) / 1000;
      };
      let x = 0;
      while (used() < n) for (let i = 0; i < 1e5; i++) x += Math.sqrt(x + i);
      return Response.json({ x, cpu_ms: used() });
    }
    case "sleep":
      await new Promise((r) => setTimeout(r, n));
      return Response.json({ slept: n });
    case "background":
      EdgeRuntime.waitUntil(new Promise((r) => setTimeout(r, n)));
      return Response.json({ started: true });
    case "crash":
      setTimeout(() => Deno.exit(1), 10);
      return await new Promise<Response>(() => {});
  }
  return Response.json({ error: "unknown probe" }, { status: 404 });
});
