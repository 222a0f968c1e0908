// `npm run openapi`: builds the OpenAPI document from every function's app (the routes declare
// their own request and response schemas, see _shared/openapi.ts) and writes
// supabase/functions/openapi/openapi.json, which the `openapi` function serves. With --check it
// only says whether the file is up to date.
import { fileURLToPath } from "node:url";
import { type FunctionApp, openApiDocument } from "../_shared/openapi.ts";
import * as legacy from "../_shared/openapi_legacy.ts";

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
    if (!exists(new URL(`./${name}/app.ts`, FUNCTIONS))) continue;
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

const exists = (url: URL) => {
  try {
    return Deno.statSync(url).isFile;
  } catch {
    return false;
  }
};

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

// TRANSITIONAL: functions not yet converted to app.ts keep an `operations` list in index.ts.
export async function loadLegacy() {
  const serve = Deno.serve;
  (Deno as unknown as { serve: unknown }).serve = () => ({
    finished: Promise.resolve(),
    shutdown: async () => {},
  });
  const loaded: Record<string, { operations: legacy.Operation[]; app: FunctionApp }> = {};
  try {
    for (const name of functionNames()) {
      if (exists(new URL(`./${name}/app.ts`, FUNCTIONS))) continue;
      loaded[name] = await import(new URL(`./${name}/index.ts`, FUNCTIONS).href);
    }
  } finally {
    (Deno as unknown as { serve: unknown }).serve = serve;
  }
  return loaded;
}

/** Routes a legacy function serves that its operations do not describe, and the other way round. */
export function legacyUndocumented(
  fn: string,
  mod: { operations: legacy.Operation[]; app: FunctionApp },
) {
  const key = (method: string, path: string) =>
    `${method} ${path.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "") || "/"}`;
  const routes = new Set(
    mod.app.routes.filter((r) => r.method !== "ALL" && !r.path.endsWith("*")).map((r) =>
      key(r.method, r.path)
    ),
  );
  const described = new Set(
    mod.operations.map((op) => key(op.method, legacy.openApiPath(fn, op.path))),
  );
  return [
    ...[...routes].filter((r) => !described.has(r)),
    ...[...described].filter((o) => !routes.has(o)),
  ];
}

export async function buildDocument() {
  const document = openApiDocument(await loadApps());
  const old = legacy.openApiDocument(
    Object.fromEntries(
      Object.entries(await loadLegacy()).map(([fn, mod]) => [fn, mod.operations]),
    ),
  );
  const paths = { ...document.paths, ...old.paths } as Record<string, unknown>;
  return {
    ...document,
    components: {
      ...document.components,
      schemas: { ...old.components.schemas, ...document.components.schemas },
    },
    paths: Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]])),
  };
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
