import { useEffect, useState } from "react";
import { go } from "./route.ts";
import type { Session } from "./session.ts";

interface Item {
  id: string;
  title: string | null;
  pinned: boolean;
  group: string;
}

const GROUPS: Record<string, string> = {
  pinned: "Pinned",
  today: "Today",
  yesterday: "Yesterday",
  previous_7_days: "Previous 7 days",
  previous_30_days: "Previous 30 days",
  older: "Older",
};

/** Conversations grouped by date (the API computes the groups in the user's time zone). */
export function Sidebar(props: { session: Session; version: number; activeId: string | null; onChanged: () => void }) {
  const { aide } = props.session;
  const [items, setItems] = useState<Item[]>([]);
  const [q, setQ] = useState("");

  useEffect(() => {
    const timer = setTimeout(async () => {
      const page = await aide.conversations.list(q.trim() ? { q: q.trim() } : {}) as { conversations: Item[] };
      setItems(page.conversations);
    }, q ? 200 : 0);
    return () => clearTimeout(timer);
  }, [aide, q, props.version]);

  const togglePin = async (id: string) => {
    await aide.conversations.pin(id);
    props.onChanged();
  };

  const groups = Object.keys(GROUPS).map((g) => [g, items.filter((i) => i.group === g)] as const)
    .filter(([, list]) => list.length > 0);
  return (
    <nav className="sidebar">
      <button className="new" onClick={() => go("/")} data-testid="new-chat">+ New chat</button>
      <input className="search" placeholder="Search conversations" value={q} onChange={(e) => setQ(e.target.value)} data-testid="search" />
      {groups.map(([group, list]) => (
        <section key={group} data-testid={`group-${group}`}>
          <h3>{GROUPS[group]}</h3>
          {list.map((c) => (
            <div key={c.id} className={c.id === props.activeId ? "item active" : "item"}>
              <a href={`#/c/${c.id}`} data-testid="conversation">{c.title ?? "New conversation"}</a>
              <button className="pin" title={c.pinned ? "Unpin" : "Pin"} onClick={() => togglePin(c.id)} data-testid="pin">
                {c.pinned ? "★" : "☆"}
              </button>
            </div>
          ))}
        </section>
      ))}
      <footer>
        <a href="#/inbox" data-testid="nav-inbox">Inbox</a>
        <a href="#/planner" data-testid="nav-planner">Planner</a>
        <a href="#/documents" data-testid="nav-documents">Documents</a>
        <a href="#/usage" data-testid="nav-usage">Usage</a>
        <span className="who">{props.session.email}</span>
        <button className="link" onClick={() => props.session.signOut()}>Sign out</button>
      </footer>
    </nav>
  );
}
