// One conversation through useChat and the SDK's transport: streaming, stop (which really stops
// the reply), regenerate, edit with a branch switcher, resume after a reload, @ mentions and
// citations.
import { useChat } from "@ai-sdk/react";
import { type AideUIMessage, citationsOf, toUIMessages } from "@aide/client";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { loadTree, type Tree } from "./branches.ts";
import { Composer } from "./Composer.tsx";
import type { Session } from "./session.ts";

interface Loaded {
  title: string | null;
  messages: AideUIMessage[];
  tree: Tree;
}

async function load(session: Session, id: string): Promise<Loaded> {
  const [conversation, tree] = await Promise.all([
    session.aide.conversations.get(id),
    loadTree(session, id),
  ]);
  return { title: conversation.title, messages: toUIMessages(conversation.messages), tree };
}

export function Chat(props: { session: Session; conversationId: string; onActivity: () => void }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    load(props.session, props.conversationId).then(setLoaded, (e) => setProblem(String(e.message ?? e)));
  }, [props.session, props.conversationId]);
  if (problem) return <p className="problem">{problem}</p>;
  if (!loaded) return <p className="loading">Loading…</p>;
  return <ChatView {...props} loaded={loaded} />;
}

function ChatView(props: { session: Session; conversationId: string; onActivity: () => void; loaded: Loaded }) {
  const { session, conversationId } = props;
  const [tree, setTree] = useState(props.loaded.tree);
  const [title, setTitle] = useState(props.loaded.title);
  const transport = useMemo(() => session.aide.chatTransport(conversationId), [session, conversationId]);
  const { messages, sendMessage, status, stop, regenerate, setMessages, error } = useChat<AideUIMessage>({
    id: conversationId,
    messages: props.loaded.messages,
    transport,
    resume: true, // a reply still being generated (say, before a reload) is followed
    // After a stop, the reply is final once the stop endpoint answers; then read it back.
    onFinish: ({ isAbort }) => void (isAbort ? transport.stop() : Promise.resolve()).then(() => refresh()),
  });

  /** History from the server: stored ids and parents (for edits and branches), titles. */
  const refresh = useCallback(async () => {
    const fresh = await load(session, conversationId);
    setTree(fresh.tree);
    setTitle(fresh.title);
    setMessages(fresh.messages);
    props.onActivity();
  }, [session, conversationId]);

  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [messages]);

  const busy = status === "submitted" || status === "streaming";
  const lastAssistant = messages.findLast((m) => m.role === "assistant");

  const switchTo = async (siblingId: string) => {
    await session.aide.conversations.switchBranch(conversationId, tree.leafOf(siblingId));
    await refresh();
  };
  const edit = (index: number, text: string) => {
    const parentId = messages[index].metadata?.parentId ?? null;
    setMessages(messages.slice(0, index));
    sendMessage({ text }, { body: { parent_id: parentId } });
  };

  return (
    <div className="chat">
      <header><h2 data-testid="title">{title ?? "New conversation"}</h2></header>
      <ol className="messages" ref={list} data-testid="messages">
        {messages.map((m, i) => (
          <Message
            key={m.id}
            message={m}
            tree={tree}
            busy={busy}
            streaming={busy && m === messages.at(-1) && m.role === "assistant"}
            canRegenerate={!busy && m === lastAssistant}
            onRegenerate={() => regenerate({ messageId: m.id })}
            onEdit={(text) => edit(i, text)}
            onSwitch={switchTo}
          />
        ))}
      </ol>
      {error && <p className="problem" data-testid="chat-error">{error.message}</p>}
      <Composer
        aide={session.aide}
        busy={busy}
        onSend={(text, mentions) => sendMessage({ text }, { body: { mentions } })}
        onStop={stop}
      />
    </div>
  );
}

function Message(props: {
  message: AideUIMessage;
  tree: Tree;
  busy: boolean;
  streaming: boolean;
  canRegenerate: boolean;
  onRegenerate: () => void;
  onEdit: (text: string) => void;
  onSwitch: (siblingId: string) => void;
}) {
  const { message } = props;
  const [editing, setEditing] = useState<string | null>(null);
  const text = message.parts.map((p) => (p.type === "text" ? p.text : "")).join("");
  const siblings = props.tree.siblings(message.id);
  const position = siblings.indexOf(message.id);
  const citations = citationsOf(message);
  const status = message.metadata?.status;

  return (
    <li className={`message ${message.role}`} data-testid={`message-${message.role}`} data-status={status}>
      {editing !== null
        ? (
          <form onSubmit={(e) => { e.preventDefault(); props.onEdit(editing); setEditing(null); }}>
            <textarea value={editing} onChange={(e) => setEditing(e.target.value)} data-testid="edit-text" />
            <button type="submit" data-testid="edit-save">Send</button>
            <button type="button" className="secondary" onClick={() => setEditing(null)}>Cancel</button>
          </form>
        )
        : <div className="text" data-testid="message-text">{text}{props.streaming && <span className="cursor">▍</span>}</div>}
      {citations.length > 0 && (
        <ul className="citations" data-testid="citations">
          {citations.map((c, i) => (
            <li key={c.sourceId} data-testid="citation">
              <strong>[{i + 1}] {c.title}</strong> {c.snippet && <span>{c.snippet.replace(/\*\*/g, "")}</span>}
            </li>
          ))}
        </ul>
      )}
      {status === "aborted" && <p className="meta">Stopped</p>}
      <div className="actions">
        {siblings.length > 1 && position >= 0 && (
          <span className="branches" data-testid="branches">
            <button disabled={props.busy || position === 0} onClick={() => props.onSwitch(siblings[position - 1])} data-testid="branch-prev">‹</button>
            <span data-testid="branch-position">{position + 1} / {siblings.length}</span>
            <button disabled={props.busy || position === siblings.length - 1} onClick={() => props.onSwitch(siblings[position + 1])} data-testid="branch-next">›</button>
          </span>
        )}
        {message.role === "user" && !props.busy && editing === null && (
          <button className="link" onClick={() => setEditing(text)} data-testid="edit">Edit</button>
        )}
        {props.canRegenerate && <button className="link" onClick={props.onRegenerate} data-testid="regenerate">Regenerate</button>}
      </div>
    </li>
  );
}
