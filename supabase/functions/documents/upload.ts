// Reading an uploaded file (multipart/form-data) into document text, with stated limits:
// 10 MB per file (413), .txt, .md and .pdf only (415), and text we can actually read (422):
// valid UTF-8 for text files, a text layer for PDFs.
import { extractText, getDocumentProxy } from "unpdf";
import { ApiError } from "../_shared/http.ts";

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const TYPES: Record<string, string> = {
  txt: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  pdf: "application/pdf",
};

export interface Upload {
  filename: string;
  mimeType: string;
  bytes: Uint8Array;
  text: string;
  fields: Record<string, string>;
}

const tooLarge = () =>
  new ApiError(413, "payload_too_large", `Files are limited to ${MAX_UPLOAD_BYTES} bytes`);

export async function readUpload(req: Request): Promise<Upload> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_UPLOAD_BYTES + 64 * 1024) {
    throw tooLarge();
  }
  let form: FormData;
  try {
    form = await req.formData();
  } catch {
    throw new ApiError(400, "invalid_request", "The body is not valid multipart/form-data");
  }
  const file = form.get("file");
  if (!(file instanceof File)) {
    throw new ApiError(400, "invalid_request", 'Send the file in a form field named "file"');
  }
  if (file.size > MAX_UPLOAD_BYTES) throw tooLarge();
  const extension = file.name.toLowerCase().split(".").at(-1) ?? "";
  const mimeType = TYPES[extension];
  if (!mimeType) {
    throw new ApiError(415, "unsupported_media_type", "Upload .txt, .md or .pdf files");
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  const fields: Record<string, string> = {};
  for (const [key, value] of form.entries()) if (typeof value === "string") fields[key] = value;
  return { filename: file.name, mimeType, bytes, text: await textOf(bytes, mimeType), fields };
}

async function textOf(bytes: Uint8Array, mimeType: string): Promise<string> {
  if (mimeType !== "application/pdf") {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ApiError(422, "unreadable_file", "The file is not UTF-8 text");
    }
  }
  let text: string;
  try {
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    text = (await extractText(pdf, { mergePages: true })).text;
  } catch {
    throw new ApiError(422, "unreadable_file", "The file is not a readable PDF");
  }
  if (!text.trim()) {
    throw new ApiError(
      422,
      "no_text_layer",
      "The PDF has no text layer (scanned pages are not supported)",
    );
  }
  return text;
}
