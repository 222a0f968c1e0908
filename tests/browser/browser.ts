// What the browser tests share: the example web app built once and served on the stack's web
// port (with /config.json pointing at the test stack), Debian's Chromium driven by
// playwright-core (no browser download), a signed-in page, and a screenshot of the page under
// .local/<stack>/screenshots/ when a test fails.
import { join } from "node:path";
import { createClient } from "@supabase/supabase-js";
import { type Browser, chromium, type Page } from "playwright-core";
import { ROOT } from "../../local/config.ts";
import { followLink, lastMail, newEmail } from "../_support/auth.ts";
import { cfg, connect, env } from "../_support/stack.ts";

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

let started: Promise<{ browser: Browser; close: () => Promise<void> }> | undefined;

/**
 * One built app, server and browser for the whole file; closed by `closeBrowser()`. Playwright
 * gives the browser a fresh temporary profile, and each test its own context (own storage, so
 * its own signed-in user).
 */
function start() {
  started ??= (async () => {
    await build();
    const server = serve();
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: CHROMIUM_FLAGS,
    });
    return {
      browser,
      close: async () => {
        await browser.close();
        await server.shutdown();
      },
    };
  })();
  return started;
}

export interface TestUser {
  email: string;
  password: string;
  userId: string;
}

const admin = createClient(env.SUPABASE_URL, env.SUPABASE_SERVICE_ROLE_KEY, {
  auth: { persistSession: false, autoRefreshToken: false },
});

/** A confirmed user with a password, made with the Auth admin API (as a back office would). */
async function confirmedUser(): Promise<TestUser> {
  const email = newEmail("browser");
  const password = `pw-${crypto.randomUUID()}`;
  const { data, error } = await admin.auth.admin.createUser({
    email,
    password,
    email_confirm: true,
  });
  if (error) throw error;
  return { email, password, userId: data.user.id };
}

async function signIn(page: Page, user: TestUser) {
  await page.getByTestId("email").fill(user.email);
  await page.getByTestId("password").fill(user.password);
  await page.getByTestId("sign-in").click();
  await page.getByTestId("new-chat").waitFor();
}

/** Signs up on the page, confirms through the link in the mail catcher, signs in. */
async function signUpAndIn(page: Page): Promise<TestUser> {
  const email = newEmail("browser");
  const password = `pw-${crypto.randomUUID()}`;
  await page.getByTestId("email").fill(email);
  await page.getByTestId("password").fill(password);
  await page.getByTestId("sign-up").click();
  await page.getByTestId("auth-message").filter({ hasText: "confirm" }).waitFor();
  await followLink((await lastMail(email)).link);
  const sql = connect();
  const [row] = await sql`select id from auth.users where email = ${email}`.finally(() =>
    sql.end()
  );
  const user = { email, password, userId: row.id };
  await signIn(page, user);
  return user;
}

export async function closeBrowser() {
  if (started) await (await started).close();
  started = undefined;
}

/**
 * Runs `fn` with a new page signed in (supabase-js, email and password) as a new user: one made
 * with the admin API, or with `signUp` one that signs up on the page and confirms by mail. On
 * failure, saves a screenshot (.local/<stack>/screenshots/<name>.png) and the page's console.
 */
export async function withPage(
  name: string,
  fn: (page: Page, user: TestUser) => Promise<void>,
  options: { signUp?: boolean } = {},
) {
  const { browser } = await start();
  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on("console", (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`pageerror: ${e.message}`));
  try {
    await page.goto(APP_URL);
    await page.getByTestId("email").waitFor();
    let user: TestUser;
    if (options.signUp) user = await signUpAndIn(page);
    else {
      user = await confirmedUser();
      await signIn(page, user);
    }
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
    await context.close();
  }
}

export const words = (n: number, prefix = "w") =>
  Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(" ");
