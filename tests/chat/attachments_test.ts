// Chat attachments: files sent as useChat file parts (data URLs) or uploaded first and sent by
// id reach both providers in their own format, are stored in Storage (never in messages), come
// back with signed links, hold their limits with nothing stored on a refusal, and are refused
// before any provider call for a model that cannot read them.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type ChatUser,
  chatUser,
  type Chunk,
  GPT,
  marker,
  providerRequests,
  queueScript,
  readSse,
  SONNET,
  withDb,
} from "../_support/chat.ts";
import { pdfWith } from "../_support/pdf.ts";
import { toUIMessages } from "../../packages/client/src/ui_messages.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const PDF = pdfWith("Quarterly report: revenue 42");
const dataUrl = (type: string, bytes: Uint8Array) =>
  `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
const sha256 = async (bytes: Uint8Array) =>
  Array.from(
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

/** A useChat request body (what DefaultChatTransport posts) with file parts. */
const useChatBody = (text: string, files: { type: string; bytes: Uint8Array; name: string }[]) => ({
  id: crypto.randomUUID(),
  trigger: "submit-message",
  messages: [{
    id: crypto.randomUUID(),
    role: "user",
    parts: [
      ...files.map((f) => ({
        type: "file",
        mediaType: f.type,
        filename: f.name,
        url: dataUrl(f.type, f.bytes),
      })),
      { type: "text", text },
    ],
  }],
});

/** The chat request (not the title's) that carried `text`. */
const chatRequest = async (provider: "openai" | "anthropic", text: string, model: string) => {
  const found = (await providerRequests(provider, text)).filter((r) => r.model === model);
  assert.equal(found.length, 1, `one ${model} request with ${text}`);
  return found[0];
};

/** What a conversation has stored: messages, attachment rows, Storage objects. */
const stored = (conversation: string) =>
  withDb(async (sql) => ({
    messages: Number(
      (await sql`select count(*) from public.messages where conversation_id = ${conversation}`)[0]
        .count,
    ),
    rows: Number(
      (await sql`select count(*) from public.chat_attachments
                 where conversation_id = ${conversation}`)[0].count,
    ),
    objects: Number(
      (await sql`select count(*) from storage.objects where bucket_id = 'chat-attachments'
                 and (storage.foldername(name))[2] = ${conversation}`)[0].count,
    ),
  }));

const upload = (user: ChatUser, conversation: string, file: File) => {
  const form = new FormData();
  form.append("file", file);
  return user.api(`/conversations/${conversation}/attachments`, { method: "POST", body: form });
};

for (
  const [provider, model, providerModel, image, document, firstUser] of [
    ["anthropic", "claude-sonnet-4.6", SONNET, "image", "document", 0],
    ["openai", "gpt-5.2", GPT, "image_url", "file", 1], // after the system message
  ] as const
) {
  Deno.test(`an image and a PDF sent as useChat file parts reach ${provider} natively and come back`, async () => {
    const alice = await chatUser("attach");
    const conversation = await alice.createConversation({ model });
    const question = marker("What do these show");
    const res = await alice.send(
      conversation,
      useChatBody(question, [
        { type: "image/png", bytes: PNG, name: "dot.png" },
        { type: "application/pdf", bytes: PDF, name: "report.pdf" },
      ]),
    );
    assert.equal(res.status, 200, await res.clone().text());
    const chunks = (await readSse(res)) as Chunk[];
    assert.ok(chunks.some((c) => c.type === "finish"), JSON.stringify(chunks.slice(-3)));

    // The provider got both files in its own format, byte for byte.
    const request = await chatRequest(provider, question, providerModel);
    assert.ok(request, "the provider was called");
    assert.equal(request.status, 200);
    assert.deepEqual(
      request.files?.map((f) => [f.type, f.media_type, f.source, f.sha256]),
      [
        [image, "image/png", "base64", await sha256(PNG)],
        [document, "application/pdf", "base64", await sha256(PDF)],
      ],
    );

    // Stored: the parts describe the files; the bytes are in Storage, not in messages.
    const [user] = await withDb((sql) =>
      sql`select parts, pg_column_size(parts) as size from public.messages
          where conversation_id = ${conversation} and role = 'user'`
    );
    const parts = user.parts.filter((p: { type: string }) => p.type === "attachment");
    assert.deepEqual(
      parts.map((p: Record<string, unknown>) => [p.filename, p.media_type, p.size, p.sha256]),
      [
        ["dot.png", "image/png", PNG.byteLength, await sha256(PNG)],
        ["report.pdf", "application/pdf", PDF.byteLength, await sha256(PDF)],
      ],
    );
    assert.ok(!JSON.stringify(user.parts).includes("base64"), "no data URL in messages");
    assert.ok(user.size < 2000, `the user message's parts are small (${user.size} bytes)`);
    assert.deepEqual(await stored(conversation), { messages: 2, rows: 2, objects: 2 });
    for (const p of parts) {
      assert.match(p.path, new RegExp(`^${alice.userId}/${conversation}/${p.id}/`));
    }

    // GET answers them with signed links that give the bytes back, without a JWT.
    const { body } = await alice.api(`/conversations/${conversation}`);
    const answered = body.messages[0].parts.filter((p: { type: string }) =>
      p.type === "attachment"
    );
    assert.equal(answered.length, 2);
    assert.ok(Date.parse(answered[0].url_expires_at) > Date.now());
    const download = await fetch(answered[0].url);
    assert.equal(download.status, 200);
    assert.deepEqual(new Uint8Array(await download.arrayBuffer()), new Uint8Array(PNG));
    const forged = await fetch(answered[0].url.replace(/token=[^&]+/, "token=x.y.z"));
    assert.equal(forged.status, 400, "a link without its signature gives nothing");
    await forged.body?.cancel();
    // The SDK turns them into useChat file parts for `useChat({messages})`.
    assert.deepEqual(
      toUIMessages(body.messages)[0].parts.filter((p) => p.type === "file").map((p) =>
        p.type === "file" && [p.mediaType, p.filename, p.url]
      ),
      answered.map((a: Record<string, string>) => [a.media_type, a.filename, a.url]),
    );
    const page = await alice.api(`/conversations/${conversation}/messages`);
    assert.ok(page.body.messages[0].parts.some((p: { url?: string }) => p.url));

    // The next turn re-sends them with the history (within the budget).
    const followUp = marker("And the second page");
    await readSse(await alice.send(conversation, { content: followUp }));
    const next = await chatRequest(provider, followUp, providerModel);
    assert.deepEqual(next.files?.map((f) => [f.type, f.message]), [
      [image, firstUser],
      [document, firstUser],
    ]);

    // Export lists them; another user sees nothing.
    const md = await alice.api(`/conversations/${conversation}/export?format=markdown`);
    assert.match(md.text, /> Attachment: report\.pdf \(application\/pdf, \d+ bytes\)/);
    const bob = await chatUser("attach");
    assert.equal(download.status, 200);
    assert.equal((await bob.api(`/conversations/${conversation}`)).status, 404);
  });
}

Deno.test("a file uploaded first is sent by its id (Aide's body and useChat's)", async () => {
  const alice = await chatUser("attach");
  const conversation = await alice.createConversation({ model: "gpt-5.2" });
  const up = await upload(alice, conversation, new File([PNG], "photo.png", { type: "image/png" }));
  assert.equal(up.status, 201, up.text);
  assert.equal(up.body.sha256, await sha256(PNG));
  assert.equal(up.body.size, PNG.byteLength);
  assert.equal(up.body.media_type, "image/png");
  assert.ok(up.body.url, "a signed link to what was uploaded");

  const question = marker("Describe the photo");
  const res = await alice.send(conversation, { content: question, attachments: [up.body.id] });
  assert.equal(res.status, 200);
  await readSse(res);
  const request = await chatRequest("openai", question, GPT);
  assert.deepEqual(request.files?.map((f) => f.sha256), [await sha256(PNG)]);

  const again = marker("Once more");
  const body = {
    ...useChatBody(again, []),
    model: "claude-sonnet-4.6",
    attachments: [up.body.id],
  };
  await readSse(await alice.send(conversation, body));
  const claude = await chatRequest("anthropic", again, SONNET);
  // The upload is sent with the new message, and once more as part of the earlier turn.
  assert.deepEqual(claude.files?.map((f) => f.message), [0, 2]);
  assert.deepEqual(await stored(conversation), { messages: 4, rows: 1, objects: 1 });

  // Deleting it removes the file and the row; only its owner may, once.
  const path = `/conversations/${conversation}/attachments/${up.body.id}`;
  const bob = await chatUser("attach");
  assert.equal((await bob.api(path, { method: "DELETE" })).status, 404);
  assert.equal((await alice.api(path, { method: "DELETE" })).status, 204);
  assert.deepEqual(await stored(conversation), { messages: 4, rows: 0, objects: 0 });
  assert.equal((await alice.api(path, { method: "DELETE" })).status, 404);
});

Deno.test("a model that cannot read the file is refused before any call; fallbacks that cannot are skipped", async () => {
  const alice = await chatUser("attach");
  const textOnly = marker("text-only");
  const visionFirst = marker("vision-first");
  await withDb((sql) =>
    sql`insert into public.models (alias, provider, provider_model, display_name, context_window,
                                   max_output_tokens, capabilities, fallback) values
          (${textOnly}, 'openai', ${textOnly}, 'No vision', 100000, 1000, '{"tools": true}', '{}'),
          (${visionFirst}, 'openai', ${visionFirst}, 'Vision', 100000, 1000,
           '{"vision": true, "pdf": true}', ${[textOnly, "claude-sonnet-4.6"]})`
  );
  try {
    const conversation = await alice.createConversation({ model: textOnly });
    const question = marker("What is in the picture");
    const res = await alice.send(
      conversation,
      useChatBody(question, [{ type: "image/png", bytes: PNG, name: "a.png" }]),
    );
    assert.equal(res.status, 422);
    assert.equal((await res.json()).error.code, "unsupported_attachment");
    assert.deepEqual(await providerRequests("openai", question), [], "no provider call");
    assert.deepEqual(await stored(conversation), { messages: 0, rows: 0, objects: 0 });

    // Text files every model reads (as text).
    const note = marker("Read the note");
    const text = new TextEncoder().encode("the launch is on May 12");
    const ok = await alice.send(
      conversation,
      useChatBody(note, [{ type: "text/plain", bytes: text, name: "note.txt" }]),
    );
    assert.equal(ok.status, 200);
    await readSse(ok);
    const read = await chatRequest("openai", note, textOnly);
    assert.deepEqual(read.files, undefined, "a text file is sent as text");

    // The first model fails; its fallback without vision is skipped; Claude answers.
    const chained = await alice.createConversation({ model: visionFirst });
    const ask = marker("Fallback with a picture");
    await queueScript("openai", { status: 500 }, { model: visionFirst }, 3);
    const sent = await alice.send(
      chained,
      useChatBody(ask, [{ type: "image/png", bytes: PNG, name: "a.png" }]),
    );
    await readSse(sent);
    const tried = [
      ...await providerRequests("openai", ask),
      ...await providerRequests("anthropic", ask),
    ].map((r) => r.model);
    assert.ok(!tried.includes(textOnly), `the model without vision was skipped: ${tried}`);
    assert.equal(tried.at(-1), "claude-sonnet-4-6");
  } finally {
    await withDb(async (sql) => {
      await sql`delete from public.conversations where model in (${textOnly}, ${visionFirst})`;
      await sql`delete from public.models where alias in (${textOnly}, ${visionFirst})`;
    });
  }
});

Deno.test("limits and bad files are refused with 413, 415 or 422, and nothing is stored", async () => {
  const alice = await chatUser("attach");
  const bob = await chatUser("attach");
  const conversation = await alice.createConversation({ model: "claude-sonnet-4.6" });
  const bobs = await bob.createConversation();
  const bobsFile = await upload(bob, bobs, new File([PNG], "b.png", { type: "image/png" }));
  assert.equal(bobsFile.status, 201);
  const big = (mb: number) => {
    const bytes = new Uint8Array(mb * 1024 * 1024);
    bytes.set(PNG.subarray(0, 8));
    return bytes;
  };
  const png = { type: "image/png", bytes: PNG, name: "a.png" };
  const cases: [string, unknown, number, string][] = [
    [
      "a file over max_file_bytes",
      useChatBody("x", [{ ...png, bytes: big(11) }]),
      413,
      "payload_too_large",
    ],
    [
      "files over max_message_bytes together",
      useChatBody("x", [{ ...png, bytes: big(9) }, { ...png, bytes: big(9) }, {
        ...png,
        bytes: big(3),
      }]),
      413,
      "payload_too_large",
    ],
    [
      "a media type not allowed",
      useChatBody("x", [{ type: "application/zip", bytes: PNG, name: "a.zip" }]),
      415,
      "unsupported_media_type",
    ],
    ["more than max_files", useChatBody("x", Array(6).fill(png)), 422, "too_many_attachments"],
    [
      "bytes that are not what they say",
      useChatBody("x", [{ ...png, type: "image/jpeg" }]),
      422,
      "invalid_attachment",
    ],
    [
      "text that is not UTF-8",
      useChatBody("x", [{
        type: "text/plain",
        bytes: new Uint8Array([0xff, 0xfe]),
        name: "t.txt",
      }]),
      422,
      "invalid_attachment",
    ],
    [
      "an unknown attachment id",
      { content: "x", attachments: [crypto.randomUUID()] },
      422,
      "unknown_attachment",
    ],
    [
      "someone else's attachment",
      { content: "x", attachments: [bobsFile.body.id] },
      422,
      "unknown_attachment",
    ],
  ];
  const withUrl = (url: string, mediaType = "image/png") => ({
    ...useChatBody("x", []),
    messages: [{
      id: "m1",
      role: "user",
      parts: [{ type: "text", text: "x" }, { type: "file", mediaType, url }],
    }],
  });
  cases.push(
    ["a URL that is not a data URL", withUrl("https://example.com/a.png"), 422, "invalid_data_url"],
    ["malformed base64", withUrl("data:image/png;base64,iVBOR*w0KGgo="), 422, "invalid_data_url"],
    ["a data URL of another type", withUrl(dataUrl("image/gif", PNG)), 422, "invalid_data_url"],
  );
  for (const [what, body, status, code] of cases) {
    const res = await alice.send(conversation, body);
    const text = await res.text();
    assert.equal(res.status, status, `${what}: ${text.slice(0, 200)}`);
    assert.equal(JSON.parse(text).error.code, code, what);
  }
  // Someone else's conversation, with or without a model named.
  for (const model of [undefined, "gpt-5.2"]) {
    const intruder = await bob.send(conversation, { ...useChatBody("x", [png]), model });
    assert.equal(intruder.status, 404);
    await intruder.body?.cancel();
  }
  assert.deepEqual(await stored(conversation), { messages: 0, rows: 0, objects: 0 });

  // The upload route holds the same limits.
  const uploads: [File, number][] = [
    [new File([big(11)], "big.png", { type: "image/png" }), 413],
    [new File([PNG], "a.zip", { type: "application/zip" }), 415],
    [new File([PNG], "a.jpg", { type: "image/jpeg" }), 422],
  ];
  for (const [file, status] of uploads) {
    const res = await upload(alice, conversation, file);
    assert.equal(res.status, status, `${file.name}: ${res.text.slice(0, 200)}`);
  }
  const noFile = await alice.api(`/conversations/${conversation}/attachments`, {
    method: "POST",
    body: new FormData(),
  });
  assert.equal(noFile.status, 400);
  const othersConversation = await upload(
    alice,
    bobs,
    new File([PNG], "a.png", { type: "image/png" }),
  );
  assert.equal(othersConversation.status, 404);
  assert.deepEqual(await stored(conversation), { messages: 0, rows: 0, objects: 0 });
  assert.deepEqual(await stored(bobs), { messages: 0, rows: 1, objects: 1 });
});

Deno.test("share copies leave attachments out unless chosen; the account export lists them and deleting the account removes the files", async () => {
  const alice = await chatUser("attach");
  const conversation = await alice.createConversation({ model: "claude-sonnet-4.6" });
  await readSse(
    await alice.send(
      conversation,
      useChatBody("Look", [{ type: "image/png", bytes: PNG, name: "p.png" }]),
    ),
  );
  const shareParts = async (include: boolean) => {
    const share = await alice.api(`/conversations/${conversation}/share`, {
      method: "POST",
      json: { include_attachments: include },
    });
    const copy = await fetch(share.body.url).then((r) => r.json());
    return copy.messages[0].parts.map((p: { type: string }) => p.type);
  };
  assert.deepEqual(await shareParts(false), ["text"]);
  assert.deepEqual(await shareParts(true), ["text", "attachment"]);

  const exported = await alice.api("/account/export");
  assert.equal(exported.body.data.chat_attachments?.length, 1);
  assert.ok(
    exported.body.files.some((f: { bucket_id: string }) => f.bucket_id === "chat-attachments"),
  );
  const gone = await alice.api("/account", { method: "DELETE", json: { confirm: "DELETE" } });
  assert.equal(gone.status, 204, gone.text);
  const left = await withDb((sql) =>
    sql`select count(*)::int as n from storage.objects
        where bucket_id = 'chat-attachments' and (storage.foldername(name))[1] = ${alice.userId}`
  );
  assert.equal(left[0].n, 0);
});

Deno.test("signed links need a valid token", async () => {
  const res = await fetch(
    `${
      FUNCTIONS_URL.replace("/functions/v1", "")
    }/storage/v1/object/sign/chat-attachments/x/y.png?token=bad`,
  );
  assert.equal(res.status, 400);
  await res.body?.cancel();
});

Deno.test("deleting a conversation removes its files from Storage at once", async () => {
  const alice = await chatUser("attach");
  const conversation = await alice.createConversation({ model: "gpt-5.2" });
  // A message of files only (no text) is accepted too.
  const res = await alice.send(conversation, {
    ...useChatBody("", [{ type: "image/png", bytes: PNG, name: "only.png" }]),
    messages: [{
      id: crypto.randomUUID(),
      role: "user",
      parts: [{
        type: "file",
        mediaType: "image/png",
        filename: "only.png",
        url: dataUrl("image/png", PNG),
      }],
    }],
  });
  assert.equal(res.status, 200);
  await readSse(res);
  const up = await upload(
    alice,
    conversation,
    new File(["notes"], "n.txt", { type: "text/plain" }),
  );
  assert.equal(up.status, 201);
  assert.deepEqual(await stored(conversation), { messages: 2, rows: 2, objects: 2 });

  const bob = await chatUser("attach");
  assert.equal((await bob.api(`/conversations/${conversation}`, { method: "DELETE" })).status, 404);
  assert.deepEqual(await stored(conversation), { messages: 2, rows: 2, objects: 2 });
  assert.equal(
    (await alice.api(`/conversations/${conversation}`, { method: "DELETE" })).status,
    204,
  );
  const after = await stored(conversation);
  assert.deepEqual({ rows: after.rows, objects: after.objects }, { rows: 0, objects: 0 });
});

Deno.test("regenerating with a model that cannot read the message's files is refused before anything is stored", async () => {
  const alice = await chatUser("attach");
  const textOnly = marker("regen-text-only");
  await withDb((sql) =>
    sql`insert into public.models (alias, provider, provider_model, display_name, context_window,
                                   max_output_tokens, capabilities) values
          (${textOnly}, 'openai', ${textOnly}, 'No vision', 100000, 1000, '{}')`
  );
  try {
    const conversation = await alice.createConversation({ model: "gpt-5.2" });
    await readSse(
      await alice.send(
        conversation,
        useChatBody("See", [{ type: "image/png", bytes: PNG, name: "p.png" }]),
      ),
    );
    const { body } = await alice.api(`/conversations/${conversation}`);
    const reply = body.messages.at(-1).id;
    const before = await stored(conversation);
    const refused = await alice.api(`/conversations/${conversation}/messages/${reply}/regenerate`, {
      method: "POST",
      json: { model: textOnly },
    });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.code, "unsupported_attachment");
    // useChat's regenerate trigger goes the same way.
    const viaUseChat = await alice.send(conversation, {
      ...useChatBody("x", []),
      trigger: "regenerate-message",
      messageId: reply,
      model: textOnly,
    });
    assert.equal(viaUseChat.status, 422);
    await viaUseChat.body?.cancel();
    assert.deepEqual(await stored(conversation), before);
    assert.deepEqual(await providerRequests("openai", textOnly), []);
    // With a model that reads it, the reply is regenerated.
    const ok = await alice.send(conversation, {
      ...useChatBody("x", []),
      trigger: "regenerate-message",
      messageId: reply,
    });
    assert.equal(ok.status, 200);
    await readSse(ok);
    assert.equal((await stored(conversation)).messages, before.messages + 1);
  } finally {
    await withDb(async (sql) => {
      await sql`delete from public.conversations where model = ${textOnly}`;
      await sql`delete from public.models where alias = ${textOnly}`;
    });
  }
});
