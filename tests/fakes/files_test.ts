/** Files in provider requests: the fakes accept what the real APIs accept, record it, and refuse the rest as they do. */
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { fakeTest, requestLog } from "./helpers.ts";

const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
const PDF_B64 = btoa("%PDF-1.4\n%%EOF\n");

const status = async (p: Promise<unknown>) => {
  try {
    await p;
    return null;
  } catch (e) {
    const err = e as { status: number; error: unknown };
    return { status: err.status, error: err.error };
  }
};

fakeTest(
  "anthropic: image and document blocks are recorded; malformed ones get invalid_request_error",
  async ({ anthropicUrl }) => {
    const client = new Anthropic({ apiKey: "test", baseURL: anthropicUrl, maxRetries: 0 });
    const send = (content: Anthropic.ContentBlockParam[]) =>
      client.messages.create({
        model: "claude-sonnet-4-6",
        max_tokens: 50,
        messages: [{ role: "user", content }],
      });
    const ok = await send([
      { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_B64 } },
      {
        type: "document",
        source: { type: "base64", media_type: "application/pdf", data: PDF_B64 },
      },
      { type: "document", source: { type: "text", media_type: "text/plain", data: "notes" } },
      { type: "text", text: "files-ok" },
    ]);
    assert.equal(ok.type, "message");
    const [entry] = await requestLog(anthropicUrl, "files-ok");
    assert.deepEqual(entry.files?.map((f) => [f.type, f.media_type, f.source]), [
      ["image", "image/png", "base64"],
      ["document", "application/pdf", "base64"],
      ["document", "text/plain", "text"],
    ]);

    const refused = [
      [
        { type: "image", source: { type: "base64", media_type: "image/bmp", data: PNG_B64 } },
        "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'",
      ],
      [
        { type: "image", source: { type: "base64", media_type: "image/png", data: "not base64!" } },
        "messages.0.content.0.image.source.base64.data: Invalid base64 data",
      ],
      [
        { type: "image", source: { type: "base64", media_type: "image/jpeg", data: PNG_B64 } },
        "messages.0.content.0.image.source.base64.data: Image does not match the provided media type image/jpeg",
      ],
      [
        {
          type: "document",
          source: { type: "base64", media_type: "application/pdf", data: PNG_B64 },
        },
        "messages.0.content.0.document.source.base64.data: The PDF specified was not valid.",
      ],
    ] as const;
    for (const [block, message] of refused) {
      const got = await status(
        send([block as Anthropic.ContentBlockParam, { type: "text", text: "x" }]),
      );
      assert.deepEqual(
        got && { status: got.status, ...(got.error as { error: object }).error },
        { status: 400, type: "invalid_request_error", message },
      );
    }
  },
);

fakeTest(
  "openai: image_url and file parts are recorded; malformed ones get a 400 with param and code",
  async ({ openaiUrl }) => {
    const client = new OpenAI({ apiKey: "test", baseURL: openaiUrl, maxRetries: 0 });
    const send = (content: OpenAI.ChatCompletionContentPart[]) =>
      client.chat.completions.create({ model: "gpt-5.2", messages: [{ role: "user", content }] });
    await send([
      { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_B64}` } },
      {
        type: "file",
        file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${PDF_B64}` },
      },
      { type: "text", text: "openai-files-ok" },
    ]);
    const [entry] = await requestLog(openaiUrl, "openai-files-ok");
    assert.deepEqual(entry.files?.map((f) => [f.type, f.media_type]), [
      ["image_url", "image/png"],
      ["file", "application/pdf"],
    ]);

    const refused: [OpenAI.ChatCompletionContentPart, string][] = [
      [{ type: "image_url", image_url: { url: "data:image/png;base64,%%%" } }, "invalid_value"],
      [
        { type: "image_url", image_url: { url: `data:image/bmp;base64,${PNG_B64}` } },
        "invalid_image_format",
      ],
      [
        { type: "file", file: { file_data: `data:application/pdf;base64,${PDF_B64}` } },
        "missing_required_parameter",
      ],
      [{
        type: "file",
        file: { filename: "a.pdf", file_data: `data:application/pdf;base64,${PNG_B64}` },
      }, "invalid_value"],
    ];
    for (const [part, code] of refused) {
      const got = await status(send([part, { type: "text", text: "x" }]));
      assert.equal(got?.status, 400);
      const error = got?.error as { type: string; code: string; param: string };
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.code, code);
      assert.match(error.param, /^messages/);
    }
  },
);
