// Files through the AI SDK's own chat (AbstractChat: what useChat runs) and DefaultChatTransport,
// unchanged: `sendMessage({text, files})` posts file parts with data URLs, which reach the model
// and are stored as attachments; the README's prepareSendMessagesRequest sends only the newest
// message, and uploads go by id through `sendMessage(m, {body: {attachments}})`.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  AbstractChat,
  type ChatState,
  DefaultChatTransport,
  type FileUIPart,
  type UIMessage,
} from "ai";
import { chatUser, GPT, providerRequests, SONNET, withDb } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";
import { pdfWith } from "../_support/pdf.ts";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

/** A file as the SDK turns a FileList entry into a file part (FileReader.readAsDataURL). */
const filePart = (file: File) =>
  new Promise<FileUIPart>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      resolve({
        type: "file",
        mediaType: file.type,
        filename: file.name,
        url: String(reader.result),
      });
    reader.onerror = reject;
    reader.readAsDataURL(file);
  });

/** The chat state useChat keeps in React, as a plain object. */
class State implements ChatState<UIMessage> {
  status: ChatState<UIMessage>["status"] = "ready";
  error: Error | undefined;
  messages: UIMessage[] = [];
  pushMessage = (m: UIMessage) => void this.messages.push(m);
  popMessage = () => void this.messages.pop();
  replaceMessage = (i: number, m: UIMessage) => void (this.messages[i] = m);
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

class Chat extends AbstractChat<UIMessage> {
  constructor(transport: DefaultChatTransport<UIMessage>) {
    super({ transport, state: new State() });
  }
}

Deno.test("useChat's sendMessage({text, files}) reaches the model and is stored; uploads go by id", async () => {
  const alice = await chatUser("usechat");
  const conversation = await alice.createConversation({ model: "claude-sonnet-4.6" });
  const sent: unknown[] = [];
  const transport = new DefaultChatTransport<UIMessage>({
    api: `${FUNCTIONS_URL}/conversations/${conversation}/messages`,
    headers: { authorization: `Bearer ${alice.token}` },
    // As the README advises: only the newest message (useChat keeps every data URL).
    prepareSendMessagesRequest: ({ id, messages, trigger, messageId, body }) => {
      const request = { ...body, id, trigger, messageId, messages: messages.slice(-1) };
      sent.push(request);
      return { body: request };
    },
  });
  const chat = new Chat(transport);
  const question = `usechat-${crypto.randomUUID().slice(0, 8)} what is this`;
  await chat.sendMessage({
    text: question,
    files: [
      await filePart(new File([PNG], "dot.png", { type: "image/png" })),
      await filePart(new File([pdfWith("hello") as Uint8Array<ArrayBuffer>], "hello.pdf", { type: "application/pdf" })),
    ],
  });
  assert.equal(chat.error, undefined);
  assert.equal(chat.messages.at(-1)?.role, "assistant");
  const [claude] = (await providerRequests("anthropic", question)).filter((r) =>
    r.model === SONNET
  );
  assert.deepEqual(claude.files?.map((f) => f.type), ["image", "document"]);
  const [user] = await withDb((sql) =>
    sql`select parts from public.messages where conversation_id = ${conversation} and role = 'user'`
  );
  assert.deepEqual(
    user.parts.map((p: { type: string }) => p.type),
    ["text", "attachment", "attachment"],
  );

  // An upload, sent by id in the body (the second message, to another model).
  const form = new FormData();
  form.append("file", new File([PNG], "again.png", { type: "image/png" }));
  const up = await alice.api(`/conversations/${conversation}/attachments`, {
    method: "POST",
    body: form,
  });
  const next = `usechat-${crypto.randomUUID().slice(0, 8)} and this`;
  await chat.sendMessage({ text: next }, { body: { attachments: [up.body.id], model: "gpt-5.2" } });
  assert.equal(chat.error, undefined);
  const [gpt] = (await providerRequests("openai", next)).filter((r) => r.model === GPT);
  // This message's upload, and the earlier turn's two files with the history.
  assert.deepEqual(gpt.files?.map((f) => f.type).sort(), ["file", "image_url", "image_url"]);
  assert.equal((sent.at(-1) as { messages: unknown[] }).messages.length, 1);
});
