// Splitting documents into chunks for the search index. Chunks follow the document's own
// structure (markdown sections, transcript speaker turns, paragraphs), stay under a token
// budget, and overlap a little so a passage cut at a boundary is still found whole.

export interface ChunkOptions {
  /** Upper bound per chunk, in estimated tokens (4 characters each). */
  maxTokens?: number;
  /** How much of the previous chunk's end starts the next one. */
  overlapTokens?: number;
}

const CHARS_PER_TOKEN = 4;
const HEADING = /^#{1,6}\s+\S/;
// "Alice: hi", "[00:01:02] Bob Smith: hi", "00:01 - Carol: hi"
const SPEAKER_TURN =
  /^\s*(?:\[?\d{1,2}:\d{2}(?::\d{2})?\]?\s*(?:-\s*)?)?[\p{L}][\p{L}\p{N} .'’-]{0,40}:\s/u;

/** Units are the smallest pieces kept together when possible: sections, turns, paragraphs. */
function units(content: string, kind: string): string[] {
  const lines = content.replace(/\r\n?/g, "\n").split("\n");
  const pieces: string[] = [];
  let current: string[] = [];
  const flush = () => {
    const text = current.join("\n").trim();
    if (text) pieces.push(text);
    current = [];
  };
  for (const line of lines) {
    const startsUnit = kind === "transcript" ? SPEAKER_TURN.test(line) : HEADING.test(line) ||
      (line.trim() === "" && current.length > 0 && !HEADING.test(current[0]));
    if (startsUnit) flush();
    current.push(line);
  }
  flush();
  return pieces;
}

/**
 * Splits text longer than `max` characters at sentence ends, else at spaces, else anywhere;
 * each piece after the first starts `overlap` characters before the previous one ended.
 */
function split(text: string, max: number, overlap: number): string[] {
  if (text.length <= max) return [text];
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    if (text.length - start <= max) {
      out.push(text.slice(start).trim());
      break;
    }
    const window = text.slice(start, start + max);
    const cut = Math.max(window.lastIndexOf(". "), window.lastIndexOf("\n")) + 1 ||
      window.lastIndexOf(" ") + 1 || max;
    out.push(window.slice(0, cut).trim());
    const back = text.lastIndexOf(" ", start + cut - overlap);
    start = back > start ? back + 1 : start + cut;
  }
  return out.filter((p) => p !== "");
}

export function chunkText(content: string, kind: string, opts: ChunkOptions = {}): string[] {
  const max = (opts.maxTokens ?? 300) * CHARS_PER_TOKEN;
  const overlap = (opts.overlapTokens ?? 40) * CHARS_PER_TOKEN;
  // In markdown, a heading stays with the text under it (a section is one unit until too long).
  const pieces = units(content, kind).flatMap((u) => split(u, max, overlap));
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const piece of pieces) {
    if (size > 0 && size + piece.length + 2 > max) {
      chunks.push(current.join("\n\n"));
      // Carry the previous chunk's last units (up to the overlap) into the next one.
      const carried: string[] = [];
      let carriedSize = 0;
      for (let i = current.length - 1; i >= 0 && carriedSize + current[i].length <= overlap; i--) {
        carried.unshift(current[i]);
        carriedSize += current[i].length + 2;
      }
      const fits = carriedSize + piece.length + 2 <= max;
      current = fits ? carried : [];
      size = fits ? carriedSize : 0;
    }
    current.push(piece);
    size += piece.length + 2;
  }
  if (current.length) chunks.push(current.join("\n\n"));
  return chunks;
}
