// What the browser tests share: the example web app built once and served on the stack's web
// port (with /config.json pointing at the test stack), Debian's Chromium driven by
// playwright-core (no browser download), a signed-in page, and a screenshot of the page under
// .local/<stack>/screenshots/ when a test fails.
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ROOT } from "../../local/config.ts";
import { cfg, env, newUser } from "../_support/stack.ts";

const WEB = join(ROOT, "examples/web");
export const APP_URL = `http://127.0.0.1:${cfg.ports.web}`;
export const SCREENSHOTS = join(cfg.dir, "screenshots");

const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Type-checks the app (and the SDK source it imports), then builds it. */
async function build() {
  for (
    const [tool, args] of [["tsc", ["-p", "tsconfig.json"]], ["vite", [
      "build",
      "--logLevel",
      "error",
    ]]]
  ) {
    const out = await new Deno.Command(join(WEB, "node_modules/.bin", tool as string), {
      args: args as string[],
      cwd: WEB,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success) throw new Error(`${tool} failed in examples/web:\n${text}`);
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".svg": "image/svg+xml",
};

/** Serves examples/web/dist like any static host, plus /config.json for the test stack. */
function serve() {
  const dist = join(WEB, "dist");
  return Deno.serve({ hostname: "127.0.0.1", port: cfg.ports.web, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/config.json") {
      return Response.json({ supabaseUrl: env.SUPABASE_URL, anonKey: env.SUPABASE_ANON_KEY });
    }
    const file = path === "/" || !path.includes(".") ? "/index.html" : path;
    try {
      const body = await Deno.readFile(join(dist, file));
      return new Response(body, {
        headers: {
          "content-type": TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream",
        },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
}

let started: Promise<{ context: BrowserContext; close: () => Promise<void> }> | undefined;

/** One built app, server and browser for the whole file; closed by `closeBrowser()`. */
function start() {
  started ??= (async () => {
    await build();
    const server = serve();
    const profile = await Deno.makeTempDir({ prefix: "aide-chromium-" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1200, height: 800 },
    });
    return {
      context,
      close: async () => {
        await context.close();
        await server.shutdown();
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      },
    };
  })();
  return started;
}

export async function closeBrowser() {
  if (started) await (await started).close();
  started = undefined;
}

/**
 * Runs `fn` with a new page signed in as a new user. On failure, saves a screenshot
 * (.local/<stack>/screenshots/<name>.png) and the page's console, then rethrows.
 */
export async function withPage(
  name: string,
  fn: (page: Page, user: Awaited<ReturnType<typeof newUser>>) => Promise<void>,
) {
  const { context } = await start();
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  const user = await newUser("browser");
  try {
    await page.goto(APP_URL);
    await page.getByTestId("token").waitFor({ state: "attached" });
    await page.locator("summary").click();
    await page.getByTestId("token").fill(user.token);
    await page.getByTestId("use-token").click();
    await page.getByTestId("new-chat").waitFor();
    await fn(page, user);
  } catch (error) {
    await Deno.mkdir(SCREENSHOTS, { recursive: true });
    const file = join(SCREENSHOTS, `${name.replace(/[^a-z0-9]+/gi, "-")}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    await Deno.writeTextFile(file.replace(/\.png$/, ".console.txt"), consoleLines.join("\n")).catch(
      () => {},
    );
    throw new Error(`${(error as Error).message}\n(screenshot: ${file})`, { cause: error });
  } finally {
    await page.close();
  }
}

/** A `[[fake ...]]` directive: the fake provider answers with this text, this fast. */
export const scripted = (text: string, tokensPerSec?: number) =>
  `[[fake ${JSON.stringify({ text, ...(tokensPerSec ? { tokens_per_sec: tokensPerSec } : {}) })}]]`;

export const words = (n: number, prefix = "w") =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" ");
