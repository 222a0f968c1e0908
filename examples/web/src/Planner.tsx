// The planner: tell it a goal ("learn Spanish by June"), see the plan it proposes (the stream's
// `data` event named "plan"), approve it to save the goal and its tasks, and work through
// today's tasks.
import type { AideClient, SimpleStream } from "@aide/client";
import { useEffect, useState } from "react";

type Task = Awaited<ReturnType<AideClient["tasks"]["today"]>>["tasks"][number];
interface Plan {
  plan_id: string;
  version: number;
  status: string;
  goal: { title: string; description: string | null };
  tasks: { title: string; duration_minutes: number; start_local?: string; rrule: string | null }[];
}
interface Turn { role: "user" | "planner"; text: string }

export function Planner({ aide }: { aide: AideClient }) {
  const [message, setMessage] = useState("");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [conversationId, setConversationId] = useState<string | undefined>();
  const [running, setRunning] = useState<SimpleStream | null>(null);
  const [today, setToday] = useState<Task[]>([]);
  const [problem, setProblem] = useState("");

  const loadToday = () => aide.tasks.today().then((t) => setToday(t.tasks));
  useEffect(() => void loadToday(), [aide]);

  const send = async (text: string) => {
    setProblem("");
    setMessage("");
    setTurns((t) => [...t, { role: "user", text }, { role: "planner", text: "" }]);
    const stream = aide.planner.send({ content: text, conversation_id: conversationId });
    setRunning(stream);
    try {
      for await (const event of stream) {
        if (event.type === "token") {
          setTurns((t) => [...t.slice(0, -1), { role: "planner", text: t.at(-1)!.text + event.content }]);
        } else if (event.type === "data" && event.name === "plan") {
          const proposed = event.data as Plan;
          setPlan(proposed);
          if (!conversationId) setConversationId((await aide.planner.plan(proposed.plan_id)).conversation_id);
        } else if (event.type === "error" && event.code !== "aborted") setProblem(event.error);
      }
    } catch (e) {
      setProblem((e as Error).message);
    } finally {
      setRunning(null);
    }
  };
  const approve = async (p: Plan) => {
    setProblem("");
    try {
      await aide.planner.approve(p.plan_id, { version: p.version });
      setPlan({ ...p, status: "approved" });
      await loadToday();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  const complete = async (id: string) => {
    await aide.tasks.complete(id);
    await loadToday();
  };

  return (
    <div className="page">
      <h2>Planner</h2>
      <ul className="turns">
        {turns.map((t, i) => <li key={i} className={t.role} data-testid={`planner-${t.role}`}>{t.text || "…"}</li>)}
      </ul>
      <form className="row" onSubmit={(e) => { e.preventDefault(); if (message.trim() && !running) send(message.trim()); }}>
        <input placeholder="A goal, or a change to the plan" value={message} onChange={(e) => setMessage(e.target.value)} data-testid="planner-input" />
        {running && conversationId
          ? <button type="button" onClick={() => running.stop()} data-testid="planner-stop">Stop</button>
          : <button type="submit" disabled={!!running} data-testid="planner-send">{running ? "Planning…" : "Send"}</button>}
      </form>
      {problem && <p className="problem">{problem}</p>}
      {plan && (
        <section data-testid="planner-plan">
          <h3>{plan.goal.title} <span className="meta">v{plan.version} · {plan.status}</span></h3>
          {plan.goal.description && <p>{plan.goal.description}</p>}
          <ul>
            {plan.tasks.map((t, i) => (
              <li key={i} data-testid="plan-task">
                {t.title} <span className="meta">· {t.duration_minutes} min{t.start_local && ` · ${t.start_local.slice(0, 16).replace("T", " ")}`}{t.rrule && " · repeats"}</span>
              </li>
            ))}
          </ul>
          {plan.status === "proposed" && <button onClick={() => approve(plan)} data-testid="plan-approve">Approve plan</button>}
        </section>
      )}
      <section data-testid="today">
        <h3>Today</h3>
        {today.length === 0 && <p className="meta">Nothing scheduled today.</p>}
        <ul>
          {today.map((t) => (
            <li key={t.id ?? `${t.series_id}-${t.recurrence_id}`} data-testid="today-task" className={t.status}>
              {t.local_start && <span className="meta">{t.local_start.slice(11, 16)} </span>}
              {t.title} <span className="meta">· {t.status}</span>
              {t.status === "open" && t.id && <button className="link" onClick={() => complete(t.id!)} data-testid="task-complete">Done</button>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
