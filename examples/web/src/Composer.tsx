// The message box, with @ mention autocomplete over the user's documents: picking one adds it to
// the message's `mentions`, so its text goes into the model's context and is cited.
import type { AideClient } from "@aide/client";
import { useEffect, useRef, useState } from "react";

interface DocumentItem {
  id: string;
  title: string;
  status: string;
}

export function Composer(props: {
  aide: AideClient;
  busy: boolean;
  onSend: (text: string, mentions: string[]) => void;
  onStop: () => void;
}) {
  const [text, setText] = useState("");
  const [mentions, setMentions] = useState<DocumentItem[]>([]);
  const [query, setQuery] = useState<string | null>(null);
  const [options, setOptions] = useState<DocumentItem[]>([]);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (query === null) return setOptions([]);
    let current = true;
    props.aide.documents.list(query ? { q: query, limit: 8 } : { limit: 8 })
      .then((page) => current && setOptions((page as { documents: DocumentItem[] }).documents));
    return () => {
      current = false;
    };
  }, [query, props.aide]);

  const onChange = (value: string) => {
    setText(value);
    const beforeCursor = value.slice(0, input.current?.selectionStart ?? value.length);
    const match = beforeCursor.match(/(?:^|\s)@([^\s@]*)$/);
    setQuery(match ? match[1] : null);
  };
  const pick = (doc: DocumentItem) => {
    setText(text.replace(/@([^\s@]*)$/, `@${doc.title} `));
    setMentions((m) => (m.some((d) => d.id === doc.id) ? m : [...m, doc]));
    setQuery(null);
    input.current?.focus();
  };
  const send = () => {
    if (!text.trim() || props.busy) return;
    props.onSend(text.trim(), mentions.map((d) => d.id));
    setText("");
    setMentions([]);
  };

  return (
    <div className="composer">
      {mentions.length > 0 && (
        <div className="chips">
          {mentions.map((d) => <span key={d.id} className="chip" data-testid="mention-chip">@{d.title}</span>)}
        </div>
      )}
      {query !== null && options.length > 0 && (
        <ul className="mentions" data-testid="mention-options">
          {options.map((d) => (
            <li key={d.id}>
              <button onMouseDown={(e) => { e.preventDefault(); pick(d); }} data-testid="mention-option">
                {d.title} <small>{d.status}</small>
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="row">
        <textarea
          ref={input}
          value={text}
          placeholder="Message Aide (@ to mention a document)"
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              if (query !== null && options[0]) pick(options[0]);
              else send();
            }
          }}
          data-testid="composer"
        />
        {props.busy
          ? <button onClick={props.onStop} className="stop" data-testid="stop">Stop</button>
          : <button onClick={send} data-testid="send">Send</button>}
      </div>
    </div>
  );
}
