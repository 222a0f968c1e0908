// The example app's dev server (`npm start`) and build. It serves /config.json (the stack's URL
// and anon key, read from .local/<stack>/stack.env) so that one build works against any stack;
// AIDE_STACK picks the stack (default dev) and the port (the stack's base port + 17).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { parseEnv, ROOT, stackConfig } from "../../local/config.ts";

const stack = stackConfig(process.env.AIDE_STACK ?? "dev");

/** GET /config.json: what the app needs to reach the stack (public values only). */
function stackConfigJson(): Plugin {
  return {
    name: "aide-stack-config",
    configureServer(server) {
      server.middlewares.use("/config.json", (_req, res) => {
        let env: Record<string, string> = {};
        try {
          env = parseEnv(readFileSync(join(stack.dir, "stack.env"), "utf8"));
        } catch { /* the stack is not running */ }
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ supabaseUrl: env.SUPABASE_URL ?? null, anonKey: env.SUPABASE_ANON_KEY ?? null }));
      });
      server.httpServer?.once("listening", () => {
        console.log(`\n  Aide example web app for the "${stack.name}" stack: http://127.0.0.1:${stack.ports.web}/\n`);
      });
    },
  };
}

export default defineConfig({
  plugins: [react(), stackConfigJson()],
  resolve: {
    // The SDK from source, so a change to packages/client shows up without building it; one copy
    // of ai and react for the SDK and the app.
    alias: { "@aide/client": join(ROOT, "packages/client/src/index.ts") },
    dedupe: ["ai", "react", "react-dom"],
  },
  server: { host: "127.0.0.1", port: stack.ports.web, strictPort: true },
  preview: { host: "127.0.0.1", port: stack.ports.web, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1000 },
});
