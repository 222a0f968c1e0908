import { useEffect, useState } from "react";
import { Chat } from "./Chat.tsx";
import { Documents } from "./Documents.tsx";
import { Inbox } from "./Inbox.tsx";
import { Planner } from "./Planner.tsx";
import { go, useRoute } from "./route.ts";
import { type AppConfig, authClient, authSession, loadConfig, savedToken, type Session, tokenSession } from "./session.ts";
import { Sidebar } from "./Sidebar.tsx";
import { SignIn } from "./SignIn.tsx";
import { Usage } from "./Usage.tsx";

export function App() {
  const [config, setConfig] = useState<AppConfig | null>(null);
  const [session, setSession] = useState<Session | null>(null);
  const [problem, setProblem] = useState("");
  const [sidebarVersion, setSidebarVersion] = useState(0);
  const route = useRoute();

  useEffect(() => {
    loadConfig().then((c) => {
      setConfig(c);
      const token = savedToken();
      if (token) return setSession(tokenSession(c, token, () => setSession(null)));
      const supabase = authClient(c);
      supabase.auth.onAuthStateChange((_event, s) => {
        setSession(s ? authSession(supabase, c, s.user.email ?? "") : null);
      });
    }).catch((e) => setProblem(String(e.message ?? e)));
  }, []);

  if (problem) return <p className="problem">{problem}</p>;
  if (!config) return <p className="loading">Loading…</p>;
  if (!session) return <SignIn config={config} onToken={(t) => setSession(tokenSession(config, t, () => setSession(null)))} />;

  const refreshSidebar = () => setSidebarVersion((v) => v + 1);
  return (
    <div className="app">
      <Sidebar
        session={session}
        version={sidebarVersion}
        activeId={route.page === "chat" ? route.conversationId : null}
        onChanged={refreshSidebar}
      />
      <main>
        {route.page === "documents" && <Documents aide={session.aide} />}
        {route.page === "usage" && <Usage aide={session.aide} />}
        {route.page === "inbox" && <Inbox aide={session.aide} />}
        {route.page === "planner" && <Planner aide={session.aide} />}
        {route.page === "chat" && (
          route.conversationId
            ? <Chat key={route.conversationId} session={session} conversationId={route.conversationId} onActivity={refreshSidebar} />
            : <NewChat session={session} onCreated={refreshSidebar} />
        )}
      </main>
    </div>
  );
}

function NewChat({ session, onCreated }: { session: Session; onCreated: () => void }) {
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    const conversation = await session.aide.conversations.create({}) as { id: string };
    onCreated();
    go(`/c/${conversation.id}`);
  };
  return (
    <div className="empty">
      <h1>Aide</h1>
      <p>Chat with your assistant, mention your documents with @, and see what it costs.</p>
      <button onClick={start} disabled={busy} data-testid="start-chat">Start a conversation</button>
    </div>
  );
}
