/**
 * Files in provider requests (Anthropic image and document blocks, OpenAI image_url and file
 * parts): the checks the real APIs make on them, with their error messages, and what each fake
 * records of them in its request log (`files`), so tests see what a provider received.
 */
import { isObject } from "./script.ts";

/** What the log keeps of one file in a request. */
export interface ReceivedFile {
  /** The provider's block or part type: image, document (Anthropic); image_url, file (OpenAI). */
  type: string;
  media_type: string;
  /** base64, url or text (Anthropic's source types; OpenAI data URLs are base64). */
  source: string;
  bytes: number;
  /** Hex SHA-256 of the decoded bytes (of the text for a text source). */
  sha256: string;
  /** The message it came in (index in `messages`). */
  message: number;
}

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

const SIGNATURES: Record<string, (b: Uint8Array) => boolean> = {
  "image/png": (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47,
  "image/jpeg": (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  "image/gif": (b) => ascii(b, 0, 4) === "GIF8",
  "image/webp": (b) => ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP",
  "application/pdf": (b) => ascii(b, 0, 5) === "%PDF-",
};
const ascii = (b: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...b.subarray(from, to));

/** Strict base64 (what both APIs accept): the bytes, or null. */
export function decodeBase64(data: unknown): Uint8Array | null {
  if (typeof data !== "string" || data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    return null;
  }
  try {
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

type Checked = { files: ReceivedFile[] } | { error: string };

/** Anthropic: every image and document block of `messages`, checked as the Messages API does. */
export async function anthropicFiles(messages: unknown[]): Promise<Checked> {
  const files: ReceivedFile[] = [];
  for (const [i, message] of messages.entries()) {
    const content = isObject(message) && Array.isArray(message.content) ? message.content : [];
    for (const [j, block] of content.entries()) {
      if (!isObject(block) || (block.type !== "image" && block.type !== "document")) continue;
      const at = `messages.${i}.content.${j}.${block.type}.source`;
      const source = isObject(block.source) ? block.source : {};
      if (source.type === "url") {
        if (typeof source.url !== "string" || !/^https?:\/\//.test(source.url)) {
          return { error: `${at}.url.url: Input should be a valid URL` };
        }
        files.push({
          type: block.type,
          media_type: "",
          source: "url",
          bytes: 0,
          sha256: "",
          message: i,
        });
        continue;
      }
      if (block.type === "document" && source.type === "text") {
        if (source.media_type !== "text/plain") {
          return { error: `${at}.text.media_type: Input should be 'text/plain'` };
        }
        if (typeof source.data !== "string") {
          return { error: `${at}.text.data: Input should be a valid string` };
        }
        const bytes = new TextEncoder().encode(source.data);
        files.push({
          type: "document",
          media_type: "text/plain",
          source: "text",
          bytes: bytes.byteLength,
          sha256: await sha256Hex(bytes),
          message: i,
        });
        continue;
      }
      if (source.type !== "base64") {
        return {
          error: `${at}: Input tag '${source.type}' found using 'type' does not match any of ` +
            `the expected tags: 'base64', ${block.type === "document" ? "'text', " : ""}'url'`,
        };
      }
      const mediaType = String(source.media_type ?? "");
      if (block.type === "image" && !IMAGE_TYPES.includes(mediaType)) {
        return {
          error: `${at}.base64.media_type: Input should be 'image/jpeg', 'image/png', ` +
            `'image/gif' or 'image/webp'`,
        };
      }
      if (block.type === "document" && mediaType !== "application/pdf") {
        return { error: `${at}.base64.media_type: Input should be 'application/pdf'` };
      }
      const bytes = decodeBase64(source.data);
      if (!bytes) return { error: `${at}.base64.data: Invalid base64 data` };
      if (!SIGNATURES[mediaType](bytes)) {
        return {
          error: block.type === "image"
            ? `${at}.base64.data: Image does not match the provided media type ${mediaType}`
            : `${at}.base64.data: The PDF specified was not valid.`,
        };
      }
      files.push({
        type: block.type,
        media_type: mediaType,
        source: "base64",
        bytes: bytes.byteLength,
        sha256: await sha256Hex(bytes),
        message: i,
      });
    }
  }
  return { files };
}

/** OpenAI Chat Completions: every image_url and file part of `messages`, checked as the API does. */
export async function openaiFiles(
  messages: unknown[],
): Promise<{ files: ReceivedFile[] } | { error: string; param: string; code: string }> {
  const files: ReceivedFile[] = [];
  for (const [i, message] of messages.entries()) {
    const content = isObject(message) && Array.isArray(message.content) ? message.content : [];
    for (const [j, part] of content.entries()) {
      if (!isObject(part)) continue;
      if (part.type === "image_url") {
        const url = isObject(part.image_url) ? part.image_url.url : undefined;
        const param = `messages.[${i}].content.[${j}].image_url.url`;
        const invalid = {
          error:
            `Invalid 'messages[${i}].content[${j}].image_url.url'. Expected a base64-encoded ` +
            `data URL with an image MIME type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), ` +
            `but got an invalid value.`,
          param,
          code: "invalid_value",
        };
        if (typeof url === "string" && /^https?:\/\//.test(url)) {
          files.push({
            type: "image_url",
            media_type: "",
            source: "url",
            bytes: 0,
            sha256: "",
            message: i,
          });
          continue;
        }
        const data = typeof url === "string" ? url.match(/^data:([^;,]+);base64,(.*)$/s) : null;
        const bytes = data ? decodeBase64(data[2]) : null;
        if (!data || !bytes) return invalid;
        if (!IMAGE_TYPES.includes(data[1]) || !SIGNATURES[data[1]](bytes)) {
          return {
            error: "You uploaded an unsupported image. Please make sure your image has of one " +
              "the following formats: ['png', 'jpeg', 'gif', 'webp'].",
            param,
            code: "invalid_image_format",
          };
        }
        files.push({
          type: "image_url",
          media_type: data[1],
          source: "base64",
          bytes: bytes.byteLength,
          sha256: await sha256Hex(bytes),
          message: i,
        });
      } else if (part.type === "file") {
        const file = isObject(part.file) ? part.file : {};
        const at = `messages[${i}].content[${j}].file`;
        if (typeof file.file_data !== "string") {
          return {
            error: `Missing required parameter: '${at}.file_data' (or '${at}.file_id').`,
            param: `${at}.file_data`,
            code: "missing_required_parameter",
          };
        }
        if (typeof file.filename !== "string" || !file.filename) {
          return {
            error: `Missing required parameter: '${at}.filename'.`,
            param: `${at}.filename`,
            code: "missing_required_parameter",
          };
        }
        const data = file.file_data.match(/^data:([^;,]+);base64,(.*)$/s);
        const bytes = data ? decodeBase64(data[2]) : null;
        if (!data || !bytes || data[1] !== "application/pdf" || !SIGNATURES[data[1]](bytes)) {
          return {
            error: `Invalid file data: '${at}.file_data'. Expected a base64-encoded data URL ` +
              `with a MIME type (e.g. 'data:application/pdf;base64,SGVsbG8sIFdvcmxkIQ=='), but ` +
              `got an invalid value.`,
            param: `${at}.file_data`,
            code: "invalid_value",
          };
        }
        files.push({
          type: "file",
          media_type: data[1],
          source: "base64",
          bytes: bytes.byteLength,
          sha256: await sha256Hex(bytes),
          message: i,
        });
      }
    }
  }
  return { files };
}
