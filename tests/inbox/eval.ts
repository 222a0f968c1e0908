/**
 * `npm run eval`: the inbox fixtures (tests/inbox/fixtures/workspaces.ts) against real models.
 * Start a stack with provider keys first (`OPENAI_API_KEY=... npm start -- --detach`); the eval
 * uses that stack (AIDE_STACK, default "dev"), makes one fresh user per workspace, inserts its
 * events and runs each prompt through POST /prompts. It reports:
 * - intent accuracy: the routed intent is the fixture's;
 * - window accuracy: the window holds exactly the fixture's events (prompts that name one);
 * - invalid-citation rate: cited ids the model invented (dropped) over all it cited;
 * - task recall and precision against the events a careful person marked actionable;
 * - cost per prompt, from the usage ledger.
 * Without real keys (the fakes answer) it says so and stops: fakes measure nothing here.
 */
if (!Deno.env.get("AIDE_STACK")) Deno.env.set("AIDE_STACK", "dev");
const { FUNCTIONS_URL } = await import("../_support/stack.ts");
const { withDb } = await import("../_support/chat.ts");
const { WORKSPACES } = await import("./fixtures/workspaces.ts");
const { postPrompt, workspaceUser } = await import("./helpers.ts");

const health = await (await fetch(`${FUNCTIONS_URL}/health`)).json().catch(() => null);
const real = Object.entries(health?.providers ?? {}).filter(([, s]) => s === "configured");
if (real.length === 0) {
  console.log(
    "eval: no real provider is configured on this stack (the fakes answer); set OPENAI_API_KEY or ANTHROPIC_API_KEY and restart it",
  );
  Deno.exit(0);
}

let prompts = 0, intentsRight = 0, windows = 0, windowsRight = 0;
let cited = 0, dropped = 0, actionable = 0, found = 0, foundRight = 0;
let costMicroUsd = 0;
for (const ws of WORKSPACES) {
  const now = new Date();
  const user = await workspaceUser(ws, now);
  const keyOf = new Map(Object.entries(user.events).map(([k, id]) => [id, k]));
  for (const p of ws.prompts) {
    prompts++;
    const res = await postPrompt(user, { prompt: p.prompt });
    if (res.status !== 200) {
      console.log(`${ws.name} "${p.prompt}": ${res.status} ${res.text.slice(0, 200)}`);
      continue;
    }
    const { intent, prompt_id, response } = res.body;
    if (intent === p.intent) intentsRight++;
    const [record] = await withDb((sql) =>
      sql`select window_start, window_end, window_from from public.prompts where id = ${prompt_id}`
    );
    if (p.inWindow) {
      windows++;
      const inside = ws.events.filter((e) => {
        const t = now.getTime() - e.minutesAgo * 60_000;
        return t >= record.window_start.getTime() && t < record.window_end.getTime();
      }).map((e) => e.key).sort();
      if (JSON.stringify(inside) === JSON.stringify([...p.inWindow].sort())) windowsRight++;
    }
    if (intent === "summarize") {
      const [s] = await withDb((sql) =>
        sql`select meta from public.summaries where id = ${response.summary_id}`
      );
      cited += response.content.key_events.length + (s?.meta.dropped_citations ?? 0);
      dropped += s?.meta.dropped_citations ?? 0;
    }
    if (intent === "task_detection" && p.actionable) {
      const keys = response.tasks.map((t: { source_event_id: string }) =>
        keyOf.get(t.source_event_id)
      );
      actionable += p.actionable.length;
      found += keys.length;
      foundRight += keys.filter((k: string | undefined) => k && p.actionable!.includes(k)).length;
    }
    console.log(`${ws.name} "${p.prompt}": ${intent} (${record.window_from} window)`);
  }
  const [cost] = await withDb((sql) =>
    sql`select coalesce(sum(cost_micro_usd), 0)::bigint as c from public.usage_ledger where user_id = ${user.userId}`
  );
  costMicroUsd += Number(cost.c);
}

const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(0)}%` : "n/a");
console.log(`
providers:             ${real.map(([p]) => p).join(", ")}
prompts:               ${prompts}
intent accuracy:       ${pct(intentsRight, prompts)}
window accuracy:       ${pct(windowsRight, windows)} (${windows} prompts name a window)
invalid-citation rate: ${pct(dropped, cited)} (${dropped} of ${cited} cited ids invented)
task recall:           ${pct(foundRight, actionable)}
task precision:        ${pct(foundRight, found)}
cost per prompt:       $${(costMicroUsd / 1e6 / Math.max(prompts, 1)).toFixed(4)}`);
