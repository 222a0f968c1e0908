// Small PDFs for upload tests, written by hand: a text layer (or none) on each page.

/** A PDF of `pages` pages whose text layer says `text` on each (or no text at all). */
export function pdfWith(text: string | null, pages = 1): Uint8Array {
  const stream = text === null ? "0 0 m 100 100 l S" : `BT /F1 12 Tf 72 720 Td (${text}) Tj ET`;
  const page = (i: number) => 4 + 2 * i; // object numbers: page, then its content stream
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    `<< /Type /Pages /Kids [${
      Array.from({ length: pages }, (_, i) => `${page(i)} 0 R`).join(" ")
    }] /Count ${pages} >>`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ...Array.from({ length: pages }, (_, i) => [
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${
        page(i) + 1
      } 0 R /Resources << /Font << /F1 3 0 R >> >> >>`,
      `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    ]).flat(),
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${
    offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("")
  }`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return new TextEncoder().encode(out);
}
