// The local stand-in for Supabase Storage's object API (/storage/v1/object/*), enough for
// supabase-js `storage.from(bucket).upload / download / remove / createSignedUrl(s)`. Object rows live in
// storage.objects and are written as the caller's role with their JWT claims, so the bucket's
// RLS policies decide exactly as on Supabase; the bytes live in files under the stack's folder.
import { dirname, join } from "node:path";
import postgres from "postgres";

type Claims = Record<string, unknown> & { role?: string; sub?: string };

const SAFE_NAME = /^(?!.*(^|\/)\.\.?(\/|$))[\w\-. /()@+,=]{1,1024}$/;

export function storageHandler(dbUrl: string, root: string) {
  const sql = postgres(dbUrl, { max: 4, onnotice: () => {} });
  const error = (status: number, name: string, message: string) =>
    Response.json({ statusCode: String(status), error: name, message }, { status });

  /** Runs `fn` as the caller's database role, with their claims, like PostgREST. */
  const asCaller = <T>(claims: Claims, fn: (tx: postgres.TransactionSql) => Promise<T>) =>
    sql.begin(async (tx) => {
      await tx`select set_config('role', ${String(claims.role ?? "anon")}, true),
                      set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`;
      return await fn(tx);
    }) as Promise<T>;

  const signing = signedUrls();

  /** Signs links to objects the caller may read (the bucket's select policy decides). */
  async function sign(req: Request, bucket: string, name: string, claims: Claims) {
    const body = await req.json().catch(() => null);
    const expiresIn = Number(body?.expiresIn);
    if (!Number.isInteger(expiresIn) || expiresIn < 1) {
      return error(400, "invalid_request", "expiresIn must be a positive integer");
    }
    const names: string[] = name ? [name] : Array.isArray(body?.paths) ? body.paths : [];
    if (!name && !Array.isArray(body?.paths)) {
      return error(400, "invalid_request", "Send {expiresIn, paths: [...]}");
    }
    const readable = new Set(
      (await asCaller(
        claims,
        (tx) =>
          tx<{ name: string }[]>`select name from storage.objects
                                 where bucket_id = ${bucket} and name = any(${names}::text[])`,
      )).map((r) => r.name),
    );
    const signed = await Promise.all(names.map(async (n) =>
      readable.has(n)
        ? {
          error: null,
          path: n,
          signedURL: `/object/sign/${bucket}/${n}?token=${await signing.sign(
            `${bucket}/${n}`,
            expiresIn,
          )}`,
        }
        : {
          error: "Either the object does not exist or you do not have access to it",
          path: n,
          signedURL: null,
        }
    ));
    if (name) {
      return signed[0].signedURL
        ? Response.json({ signedURL: signed[0].signedURL })
        : error(400, "not_found", "Object not found");
    }
    return Response.json(signed);
  }

  /** GET /object/sign/<bucket>/<name>?token=: no JWT, the token is the proof (and expires). */
  async function signedDownload(url: URL, bucket: string, name: string) {
    const token = url.searchParams.get("token") ?? "";
    const verdict = await signing.verify(token, `${bucket}/${name}`);
    if (verdict !== "ok") return error(400, "InvalidSignature", verdict);
    const [row] =
      await sql`select metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`;
    if (!row) return error(404, "not_found", "Object not found");
    return new Response(await Deno.readFile(join(root, bucket, name)), {
      headers: { "content-type": row.metadata?.mimetype ?? "application/octet-stream" },
    });
  }

  return async function handle(
    req: Request,
    path: string,
    claims: Claims | null,
    url?: URL,
  ): Promise<Response> {
    const signRoute = path.match(/^\/object\/sign\/([\w-]+)(?:\/(.+))?$/);
    if (signRoute) {
      const [, bucket, rawName] = signRoute;
      const name = rawName ? decodeURIComponent(rawName) : "";
      if (name && !SAFE_NAME.test(name)) return error(400, "invalid_key", "Invalid object name");
      if (req.method === "GET" && name && url) return await signedDownload(url, bucket, name);
      if (req.method === "POST" && claims) return await sign(req, bucket, name, claims);
      return error(claims ? 405 : 401, "Unauthorized", "Invalid or missing JWT");
    }
    if (!claims) return error(401, "Unauthorized", "Invalid or missing JWT");
    // path: /object/<bucket>/<name> or /object/authenticated/<bucket>/<name>
    const match = path.match(/^\/object\/(?:authenticated\/)?([\w-]+)(?:\/(.+))?$/);
    if (!match) return error(404, "not_found", "Unknown storage route");
    const bucket = match[1];
    const name = match[2] ? decodeURIComponent(match[2]) : "";
    const file = join(root, bucket, name);

    if (req.method === "DELETE" && !name) {
      const { prefixes } = await req.json().catch(() => ({ prefixes: null }));
      if (!Array.isArray(prefixes)) return error(400, "invalid_request", "Send {prefixes: [...]}");
      const removed = await asCaller(
        claims,
        (tx) =>
          tx`delete from storage.objects where bucket_id = ${bucket} and name = any(${prefixes}::text[])
           returning bucket_id, name, metadata`,
      );
      for (const row of removed) await Deno.remove(join(root, bucket, row.name)).catch(() => {});
      return Response.json(removed);
    }
    if (!SAFE_NAME.test(name)) return error(400, "invalid_key", "Invalid object name");

    if (req.method === "GET") {
      const [row] = await asCaller(
        claims,
        (tx) =>
          tx`select metadata from storage.objects where bucket_id = ${bucket} and name = ${name}`,
      );
      if (!row) return error(404, "not_found", "Object not found");
      return new Response(await Deno.readFile(file), {
        headers: { "content-type": row.metadata?.mimetype ?? "application/octet-stream" },
      });
    }

    if (req.method === "POST" || req.method === "PUT") {
      let bytes: Uint8Array;
      let mimetype = req.headers.get("content-type") ?? "application/octet-stream";
      if (mimetype.startsWith("multipart/form-data")) {
        const part = [...(await req.formData()).values()].find((v) => v instanceof File) as
          | File
          | undefined;
        if (!part) return error(400, "invalid_request", "No file in the form");
        bytes = new Uint8Array(await part.arrayBuffer());
        mimetype = part.type || "application/octet-stream";
      } else {
        bytes = new Uint8Array(await req.arrayBuffer());
      }
      const [limits] =
        await sql`select file_size_limit, allowed_mime_types from storage.buckets where id = ${bucket}`;
      if (!limits) return error(404, "not_found", "Bucket not found");
      if (limits.file_size_limit && bytes.byteLength > Number(limits.file_size_limit)) {
        return error(413, "Payload too large", "The object exceeded the maximum allowed size");
      }
      const baseType = mimetype.split(";")[0].trim();
      if (limits.allowed_mime_types?.length && !limits.allowed_mime_types.includes(baseType)) {
        return error(415, "invalid_mime_type", `mime type ${baseType} is not supported`);
      }
      const upsert = req.method === "PUT" || req.headers.get("x-upsert") === "true";
      const metadata = {
        size: bytes.byteLength,
        mimetype: baseType,
        contentLength: bytes.byteLength,
        lastModified: new Date().toISOString(),
      };
      try {
        const id = await asCaller(claims, async (tx) => {
          const [row] = upsert
            ? await tx`insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
                 values (${bucket}, ${name}, ${claims.sub ?? null}, ${claims.sub ?? null}, ${
              tx.json(metadata)
            })
                 on conflict (bucket_id, name) do update set metadata = excluded.metadata, updated_at = now()
                 returning id`
            : await tx`insert into storage.objects (bucket_id, name, owner, owner_id, metadata)
                 values (${bucket}, ${name}, ${claims.sub ?? null}, ${claims.sub ?? null}, ${
              tx.json(metadata)
            })
                 returning id`;
          // The file is written before the row commits: a row never points at a missing file.
          await Deno.mkdir(dirname(file), { recursive: true });
          await Deno.writeFile(file, bytes);
          return row.id;
        });
        return Response.json({ Key: `${bucket}/${name}`, Id: id });
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "23505") return error(409, "Duplicate", "The resource already exists");
        if (code === "42501") {
          return error(403, "Unauthorized", "new row violates row-level security policy");
        }
        throw e;
      }
    }
    return error(405, "method_not_allowed", `${req.method} is not supported here`);
  };
}

/**
 * Signed links, as Storage makes them: a JWT (HS256 here, with a key of this process) naming
 * `bucket/name` and expiring after `expiresIn` seconds.
 */
function signedUrls() {
  const key = crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]) as Promise<CryptoKey>;
  const b64url = (bytes: Uint8Array) =>
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const text = (s: string) => b64url(new TextEncoder().encode(s));
  const header = text(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  return {
    async sign(url: string, expiresIn: number) {
      const iat = Math.floor(Date.now() / 1000);
      const body = `${header}.${text(JSON.stringify({ url, iat, exp: iat + expiresIn }))}`;
      const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(body));
      return `${body}.${b64url(new Uint8Array(mac))}`;
    },
    async verify(token: string, url: string): Promise<string> {
      const [h, p, mac] = token.split(".");
      if (!h || !p || !mac) return "Invalid token";
      const fromB64url = (s: string) =>
        Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
      let valid = false;
      try {
        valid = await crypto.subtle.verify(
          "HMAC",
          await key,
          fromB64url(mac),
          new TextEncoder().encode(`${h}.${p}`),
        );
      } catch {
        return "Invalid token";
      }
      if (!valid) return "Invalid signature";
      const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
      if (claims.url !== url) return "Invalid signature";
      if (claims.exp < Date.now() / 1000) return "jwt expired";
      return "ok";
    },
  };
}
