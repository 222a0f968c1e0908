// Upload with progress and live ingestion status, and the user's documents.
import type { AideClient, UploadProgress } from "@aide/client";
import { useEffect, useState } from "react";

interface DocumentItem {
  id: string;
  title: string;
  kind: string;
  status: string;
}

export function Documents({ aide }: { aide: AideClient }) {
  const [documents, setDocuments] = useState<DocumentItem[]>([]);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [status, setStatus] = useState("");
  const [problem, setProblem] = useState("");

  const reload = () => aide.documents.list().then((p) => setDocuments((p as { documents: DocumentItem[] }).documents));
  useEffect(() => void reload(), [aide]);

  const upload = async (file: File) => {
    setProblem("");
    setStatus("uploading");
    try {
      const created = await aide.documents.upload(file, { onProgress: setProgress }) as { id: string };
      await reload();
      await aide.documents.waitUntilReady(created.id, { onStatus: setStatus });
      await reload();
    } catch (e) {
      setProblem((e as Error).message);
      setStatus("");
    }
  };

  const percent = progress && progress.total ? Math.round((progress.loaded / progress.total) * 100) : 0;
  return (
    <div className="page">
      <h2>Documents</h2>
      <label className="upload">
        Upload a .txt, .md or .pdf file
        <input type="file" accept=".txt,.md,.pdf" onChange={(e) => e.target.files?.[0] && upload(e.target.files[0])} data-testid="upload" />
      </label>
      {progress && (
        <div className="progress" data-testid="upload-progress">
          <div style={{ width: `${percent}%` }} />
          <span>{percent}% · {status && <span data-testid="upload-status">{status}</span>}</span>
        </div>
      )}
      {problem && <p className="problem" data-testid="upload-error">{problem}</p>}
      <table className="documents">
        <thead><tr><th>Title</th><th>Kind</th><th>Status</th></tr></thead>
        <tbody>
          {documents.map((d) => (
            <tr key={d.id} data-testid="document"><td>{d.title}</td><td>{d.kind}</td><td data-testid="document-status">{d.status}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
