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
  const chunks: string[] = [];
  let current: string[] = [];
  let size = 0;
  const flush = () => {
    if (current.length) chunks.push(current.join("\n\n"));
    // The next chunk starts with the last units of this one (up to the overlap).
    const carried: string[] = [];
    let carriedSize = 0;
    for (let i = current.length - 1; i >= 0 && carriedSize + current[i].length <= overlap; i--) {
      carried.unshift(current[i]);
      carriedSize += current[i].length + 2;
    }
    current = carried;
    size = carriedSize;
  };
  // Small units (sections, turns, paragraphs) share a chunk; a unit too long for one is split
  // into chunks of its own, so a section never starts in the middle of a chunk.
  for (const unit of units(content, kind)) {
    if (size + unit.length + 2 <= max) {
      current.push(unit);
      size += unit.length + 2;
      continue;
    }
    flush();
    if (size + unit.length + 2 <= max) {
      current.push(unit);
      size += unit.length + 2;
      continue;
    }
    const pieces = split(unit, max, overlap);
    chunks.push(...pieces.slice(0, -1));
    current = [pieces.at(-1)!];
    size = current[0].length + 2;
  }
  if (current.length) chunks.push(current.join("\n\n"));
  return chunks;
}
