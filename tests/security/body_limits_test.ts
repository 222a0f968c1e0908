// Bodies are read through a reader that stops at the route's limit: a chunked body (no
// Content-Length) larger than the limit is answered 413 after about the limit has arrived, not
// after all of it; the transcript webhook checks its signature headers before reading a byte;
// PDF parsing is bounded in pages.
import assert from "node:assert/strict";
import { readBody } from "../../supabase/functions/_shared/http.ts";
import { chatUser } from "../_support/chat.ts";
import { FUNCTIONS_URL } from "../_support/stack.ts";
import { pdfWith } from "../_support/pdf.ts";

const MB = 1024 * 1024;

/** A body of up to `max` bytes with no length, counting what the reader pulled. */
function endless(max = 64 * MB, first = new Uint8Array()) {
  const pulled = { bytes: 0 };
  const chunk = new Uint8Array(64 * 1024).fill(0x61); // "aaaa..."
  let sentFirst = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sentFirst) {
        sentFirst = true;
        pulled.bytes += first.byteLength;
        controller.enqueue(first);
        return;
      }
      if (pulled.bytes >= max) return controller.close();
      pulled.bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { body, pulled };
}

Deno.test("readBody stops at the limit: 413 without reading the rest", async () => {
  const { body, pulled } = endless();
  const req = new Request("http://x/", { method: "POST", body });
  await assert.rejects(readBody(req, 100_000), (e: { status?: number; code?: string }) => {
    assert.equal(e.status, 413);
    assert.equal(e.code, "payload_too_large");
    return true;
  });
  assert.ok(pulled.bytes < 1 * MB, `read ${pulled.bytes} bytes for a limit of 100,000`);
  const small = new Request("http://x/", { method: "POST", body: "hello" });
  assert.equal(new TextDecoder().decode(await readBody(small, 5)), "hello");
  const declared = new Request("http://x/", {
    method: "POST",
    body: "x".repeat(10),
    headers: { "content-length": "10" },
  });
  await assert.rejects(readBody(declared, 9), (e: { status?: number }) => e.status === 413);
});

/** Sends a chunked body; returns the status and how much of the body had been pulled by then. */
async function sendChunked(path: string, headers: Record<string, string>, first = "") {
  const { body, pulled } = endless(64 * MB, new TextEncoder().encode(first));
  const res = await fetch(`${FUNCTIONS_URL}${path}`, { method: "POST", headers, body });
  const seen = pulled.bytes;
  const text = await res.text();
  await body.cancel().catch(() => {});
  return { status: res.status, seen, text };
}

Deno.test("a chunked body over a route's limit is answered 413 without being read to its end", async () => {
  const alice = await chatUser("chunked");
  const auth = { authorization: `Bearer ${alice.token}` };
  const json = await sendChunked(
    "/conversations",
    { ...auth, "content-type": "application/json" },
    '{"title": "',
  );
  assert.equal(json.status, 413, json.text);
  assert.ok(json.seen < 32 * MB, `the function read ${json.seen} bytes of a 1 MB-limit body`);

  const boundary = "aideboundary";
  const upload = await sendChunked(
    "/documents",
    { ...auth, "content-type": `multipart/form-data; boundary=${boundary}` },
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="big.txt"\r\n` +
      "content-type: text/plain\r\n\r\n",
  );
  assert.equal(upload.status, 413, upload.text);
  assert.ok(upload.seen < 48 * MB, `the upload read ${upload.seen} bytes of a 10 MB-limit body`);
});

Deno.test("the transcript webhook refuses a request without valid signature headers before reading its body", async () => {
  const unsigned = await sendChunked("/documents/webhook", { "content-type": "application/json" });
  assert.equal(unsigned.status, 401, unsigned.text);
  assert.ok(unsigned.seen < 16 * MB, `read ${unsigned.seen} bytes of an unsigned body`);
  const now = String(Math.floor(Date.now() / 1000));
  const signedHeaders = {
    "content-type": "application/json",
    "x-aide-timestamp": now,
    "x-aide-signature": `v1=${"0".repeat(64)}`,
  };
  const large = await sendChunked("/documents/webhook", signedHeaders);
  assert.equal(large.status, 413, large.text);
  assert.ok(large.seen < 32 * MB, `read ${large.seen} bytes of a 2.1 MB-limit body`);
});

Deno.test("PDF parsing is bounded: a PDF with more pages than the limit is refused (413 pdf_too_large)", async () => {
  const alice = await chatUser("pdfpages");
  const send = async (pages: number) => {
    const form = new FormData();
    form.set("file", new File([pdfWith("a page", pages) as BlobPart], "many.pdf"));
    return await alice.api("/documents", { method: "POST", body: form });
  };
  const ok = await send(3);
  assert.equal(ok.status, 201, ok.text);
  const many = await send(301);
  assert.equal(many.status, 413, many.text);
  assert.equal(many.body.error.code, "pdf_too_large");
});
