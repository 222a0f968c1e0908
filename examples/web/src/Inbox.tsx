// The inbox: ask about your Slack, Outlook and Telegram messages ("summarize last 2 hours",
// "what needs action?"), see the summary or the tasks it found, and decide on its proposals.
import type { AideClient } from "@aide/client";
import { useEffect, useState } from "react";

type Answer = Awaited<ReturnType<AideClient["prompts"]["run"]>>;
type Proposal = Awaited<ReturnType<AideClient["proposals"]["list"]>>["proposals"][number];

const EXAMPLES = ["summarize last 2 hours", "what needs action?", "what did Priya say about the launch?"];

export function Inbox({ aide }: { aide: AideClient }) {
  const [prompt, setPrompt] = useState("");
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [proposals, setProposals] = useState<Proposal[]>([]);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");

  const loadProposals = () =>
    aide.proposals.list({ status: "pending" }).then((p) => setProposals(p.proposals));
  useEffect(() => void loadProposals(), [aide]);

  const ask = async (text: string) => {
    setBusy(true);
    setProblem("");
    try {
      setAnswer(await aide.prompts.run({ prompt: text }));
      await loadProposals();
    } catch (e) {
      setProblem((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const decide = async (id: string, accept: boolean) => {
    await (accept ? aide.proposals.accept(id) : aide.proposals.dismiss(id));
    await loadProposals();
  };

  return (
    <div className="page">
      <h2>Inbox</h2>
      <form className="row" onSubmit={(e) => { e.preventDefault(); if (prompt.trim()) ask(prompt.trim()); }}>
        <input placeholder="Ask about your messages" value={prompt} onChange={(e) => setPrompt(e.target.value)} data-testid="inbox-prompt" />
        <button type="submit" disabled={busy} data-testid="inbox-ask">{busy ? "Working…" : "Ask"}</button>
      </form>
      <p className="meta">
        Try: {EXAMPLES.map((x) => <button key={x} className="link" onClick={() => { setPrompt(x); ask(x); }}>{x}</button>)}
      </p>
      {problem && <p className="problem">{problem}</p>}
      {answer && <AnswerView answer={answer} />}
      {proposals.length > 0 && (
        <section>
          <h3>Proposals</h3>
          <ul className="proposals">
            {proposals.map((p) => (
              <li key={p.id} data-testid="proposal">
                <strong>{p.kind.replace("_", " ")}</strong> {String(p.content_json.title ?? p.content_json.text ?? "")}
                <button className="link" onClick={() => decide(p.id, true)} data-testid="proposal-accept">Accept</button>
                <button className="link" onClick={() => decide(p.id, false)}>Dismiss</button>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function AnswerView({ answer }: { answer: Answer }) {
  const r = answer.response;
  if ("summary_id" in r) {
    const summary = r;
    return (
      <section data-testid="inbox-summary">
        <h3>Summary</h3>
        <p data-testid="summary-overview">{summary.content.overview}</p>
        {summary.content.themes.length > 0 && <p className="meta">Themes: {summary.content.themes.join(", ")}</p>}
        <ul>
          {summary.content.key_events.map((e) => <li key={e.event_id}>{e.source}: {e.title}</li>)}
        </ul>
        <p className="meta">{summary.content.statistics.total_events} messages</p>
      </section>
    );
  }
  if ("tasks" in r) {
    return (
      <section data-testid="inbox-tasks">
        <h3>Tasks ({r.total})</h3>
        <ul>
          {r.tasks.map((t) => (
            <li key={t.id} data-testid="inbox-task">
              <span className={`priority ${t.priority}`}>{t.priority}</span> {t.title}
              {t.due_at && <span className="meta"> · due {new Date(t.due_at).toLocaleString()}</span>}
              {t.reason && <span className="meta"> · {t.reason}</span>}
            </li>
          ))}
        </ul>
      </section>
    );
  }
  if ("answer" in r) return <section data-testid="inbox-answer"><p>{r.answer}</p></section>;
  return <section data-testid="inbox-answer"><p>{"content" in r ? String(r.content) : ""}</p></section>;
}
