// Reading an uploaded file (multipart/form-data) into document text, with stated limits:
// 10 MB per file (413, counted as the body arrives), .txt, .md and .pdf only (415), and text we
// can actually read (422): valid UTF-8 for text files, a text layer for PDFs. PDF parsing is
// bounded too: at most MAX_PDF_PAGES pages, MAX_PDF_MS of parsing, MAX_TEXT_BYTES of text.
import { getDocumentProxy } from "unpdf";
import { ApiError, readBody } from "../_shared/http.ts";

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Room for the multipart framing and the other form fields. */
const MAX_FORM_BYTES = MAX_UPLOAD_BYTES + 64 * 1024;
export const MAX_PDF_PAGES = 300;
export const MAX_PDF_MS = 15_000;
/** As much text as a document may hold (documents' MAX_CONTENT_BYTES). */
export const MAX_TEXT_BYTES = 2_000_000;

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
  const body = await readBody(req, MAX_FORM_BYTES).catch((e) => {
    throw e instanceof ApiError && e.status === 413 ? tooLarge() : e;
  });
  let form: FormData;
  try {
    form = await new Response(body, {
      headers: { "content-type": req.headers.get("content-type")! },
    })
      .formData();
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
  const text = await pdfText(bytes);
  if (!text.trim()) {
    throw new ApiError(
      422,
      "no_text_layer",
      "The PDF has no text layer (scanned pages are not supported)",
    );
  }
  return text;
}

/** The PDF's text layer, page by page, within the page, time and size bounds. */
async function pdfText(bytes: Uint8Array): Promise<string> {
  // deno-lint-ignore no-explicit-any
  let pdf: any;
  try {
    pdf = await getDocumentProxy(new Uint8Array(bytes));
  } catch {
    throw new ApiError(422, "unreadable_file", "The file is not a readable PDF");
  }
  try {
    if (pdf.numPages > MAX_PDF_PAGES) {
      throw new ApiError(
        413,
        "pdf_too_large",
        `PDFs are limited to ${MAX_PDF_PAGES} pages; this one has ${pdf.numPages}`,
      );
    }
    const deadline = Date.now() + MAX_PDF_MS;
    const pages: string[] = [];
    let size = 0;
    for (let n = 1; n <= pdf.numPages; n++) {
      if (Date.now() > deadline) {
        throw new ApiError(
          422,
          "pdf_too_slow",
          `Reading the PDF took longer than ${MAX_PDF_MS} ms`,
        );
      }
      const content = await (await pdf.getPage(n)).getTextContent();
      const page = content.items.filter((i: { str?: string }) => i.str != null)
        .map((i: { str: string; hasEOL?: boolean }) => i.str + (i.hasEOL ? "\n" : "")).join("");
      size += new TextEncoder().encode(page).length + 1;
      if (size > MAX_TEXT_BYTES) {
        throw new ApiError(
          413,
          "payload_too_large",
          `The PDF holds more than ${MAX_TEXT_BYTES} bytes of text`,
        );
      }
      pages.push(page);
    }
    // Whitespace collapsed, line structure kept (at most one blank line).
    return pages.join("\n").replace(/[^\S\n]+/g, " ").replace(/ ?\n ?/g, "\n").replace(
      /\n{3,}/g,
      "\n\n",
    );
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(422, "unreadable_file", "The file is not a readable PDF");
  }
}
