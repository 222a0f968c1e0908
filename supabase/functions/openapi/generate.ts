// `npm run openapi`: builds the OpenAPI document from every function's app (the routes declare
// their own request and response schemas, see _shared/openapi.ts) and writes
// supabase/functions/openapi/openapi.json, which the `openapi` function serves. With --check it
// only says whether the file is up to date.
import { fileURLToPath } from "node:url";
import { type FunctionApp, openApiDocument } from "../_shared/openapi.ts";

const FUNCTIONS = new URL("..", import.meta.url);
const OUTPUT = new URL("./openapi.json", import.meta.url);

/** Function folders without routes of their own to describe. */
const NOT_DESCRIBED = new Set(["openapi"]);

/** Every function's app (function name -> app), imported from its app.ts: no server starts. */
export async function loadApps(): Promise<Record<string, FunctionApp>> {
  // Functions read these at load time (their connections open lazily, so any value will do).
  for (const name of ["SUPABASE_DB_URL", "SUPABASE_URL", "SUPABASE_ANON_KEY"]) {
    if (!Deno.env.get(name)) {
      Deno.env.set(
        name,
        name === "SUPABASE_DB_URL"
          ? "postgresql://unused@127.0.0.1:1/unused"
          : "http://127.0.0.1:1",
      );
    }
  }
  const apps: Record<string, FunctionApp> = {};
  for (const name of functionNames()) {
    const mod = await import(new URL(`./${name}/app.ts`, FUNCTIONS).href);
    if (!mod.app) throw new Error(`${name}/app.ts must export \`app\``);
    apps[name] = mod.app;
  }
  return apps;
}

function functionNames() {
  return [...Deno.readDirSync(FUNCTIONS)]
    .filter((e) => e.isDirectory && !e.name.startsWith("_") && !NOT_DESCRIBED.has(e.name))
    .map((e) => e.name).sort();
}

/** Routes an app serves that its document does not describe (plain app.get and the like). */
export function undescribedRoutes(app: FunctionApp): string[] {
  const key = (method: string, path: string) =>
    `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1").replace(/\/$/, "") || "/"}`;
  const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "", version: "" } });
  const described = new Set(
    Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item as object).map((method) => key(method, path))
    ),
  );
  return [
    ...new Set(
      app.routes.filter((r) => r.method !== "ALL" && !r.path.endsWith("*"))
        .map((r) => key(r.method, r.path)),
    ),
  ].filter((r) => !described.has(r));
}

export async function buildDocument() {
  return openApiDocument(await loadApps());
}

if (import.meta.main) {
  const text = JSON.stringify(await buildDocument(), null, 2) + "\n";
  const path = fileURLToPath(OUTPUT);
  if (Deno.args.includes("--check")) {
    const current = await Deno.readTextFile(path).catch(() => "");
    if (current !== text) {
      console.error(`${path} is out of date: run npm run openapi`);
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(path, text);
    console.error(`wrote ${path}`);
  }
  Deno.exit(0);
}
