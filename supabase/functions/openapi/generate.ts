// `npm run openapi`: builds the OpenAPI document from every function's `operations` (the zod
// schemas its routes validate with) and writes supabase/functions/openapi/openapi.json, which
// the `openapi` function serves. With --check it only says whether the file is up to date.
import { fileURLToPath } from "node:url";
import { openApiDocument, openApiPath, type Operation } from "../_shared/openapi.ts";

const FUNCTIONS = new URL("..", import.meta.url);
const OUTPUT = new URL("./openapi.json", import.meta.url);

interface FunctionModule {
  operations?: Operation[];
  app?: { routes: { method: string; path: string }[] };
}

/** Every function's operations and routes, loaded without starting any server. */
export async function loadFunctions() {
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
  const serve = Deno.serve;
  (Deno as unknown as { serve: unknown }).serve = () => ({
    finished: Promise.resolve(),
    shutdown: async () => {},
  });
  const loaded: Record<string, Required<FunctionModule>> = {};
  try {
    for (
      const entry of [...Deno.readDirSync(FUNCTIONS)].sort((a, b) => a.name.localeCompare(b.name))
    ) {
      if (!entry.isDirectory || entry.name.startsWith("_") || entry.name === "openapi") continue;
      const mod: FunctionModule = await import(new URL(`./${entry.name}/index.ts`, FUNCTIONS).href);
      if (!mod.operations || !mod.app) {
        throw new Error(`${entry.name}/index.ts must export \`operations\` and \`app\``);
      }
      loaded[entry.name] = mod as Required<FunctionModule>;
    }
  } finally {
    (Deno as unknown as { serve: unknown }).serve = serve;
  }
  return loaded;
}

/** Routes a function serves that its operations do not describe, and the other way round. */
export function undocumented(fn: string, mod: Required<FunctionModule>) {
  const key = (method: string, path: string) =>
    `${method} ${path.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "") || "/"}`;
  const routes = new Set(
    mod.app.routes.filter((r) => r.method !== "ALL" && !r.path.endsWith("*")).map((r) =>
      key(r.method, r.path)
    ),
  );
  const described = new Set(mod.operations.map((op) => key(op.method, openApiPath(fn, op.path))));
  return {
    routesWithoutOperation: [...routes].filter((r) => !described.has(r)),
    operationsWithoutRoute: [...described].filter((o) => !routes.has(o)),
  };
}

export async function buildDocument() {
  const functions = await loadFunctions();
  return openApiDocument(
    Object.fromEntries(Object.entries(functions).map(([fn, mod]) => [fn, mod.operations])),
  );
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
