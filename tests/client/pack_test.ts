// `npm pack` of packages/client installs in a fresh Node project and works there: plain ESM
// in Node 20 against the live stack, and its type declarations under `tsc --strict`.
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../../local/config.ts";
import { env, newUser } from "../_support/stack.ts";

const CLIENT = join(ROOT, "packages/client");

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  extraEnv: Record<string, string> = {},
) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: extraEnv,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

const APP = `
import { createAideClient, AideError } from "@aide/client";
const aide = createAideClient({ url: process.env.SUPABASE_URL, accessToken: process.env.TOKEN });
const conversation = await aide.conversations.create({ title: "from a fresh project" });
let text = "";
for await (const event of aide.streamSimple(conversation.id, { content: 'Hi [[fake {"text": "packed and working"}]]' })) {
  if (event.type === "token") text += event.content;
}
const missing = await aide.conversations.get("00000000-0000-4000-8000-000000000000").catch((e) => e);
console.log(JSON.stringify({ title: conversation.title, text, error: missing instanceof AideError && missing.code }));
`;

const TYPED = `
import { createAideClient, type AideError, type SimpleEvent } from "@aide/client";
const aide = createAideClient({ url: "http://127.0.0.1:1", accessToken: () => "token" });
export async function reply(id: string): Promise<string> {
  let text = "";
  for await (const event of aide.streamSimple(id, { content: "Hi", parent_id: null })) {
    const e: SimpleEvent = event;
    if (e.type === "token") text += e.content;
  }
  return text;
}
export const transport = aide.chatTransport("id");
export const isCode = (e: AideError): string => e.code;
// @ts-expect-error: the request body is typed from the OpenAPI document
aide.conversations.create({ titel: "typo" });
`;

Deno.test("npm pack: the package installs in a fresh project and works there (Node ESM and types)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "aide-client-pack-" });
  try {
    const packed = JSON.parse(
      await run("npm", ["pack", "--json", "--pack-destination", dir], CLIENT),
    );
    const tarball = join(dir, packed[0].filename);
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    assert.ok(
      files.includes("dist/index.js") && files.includes("dist/index.d.ts"),
    );
    assert.ok(
      !files.some((f) => f.startsWith("node_modules/") || f.startsWith("test")),
    );

    const app = join(dir, "app");
    await Deno.mkdir(app);
    await Deno.writeTextFile(
      join(app, "package.json"),
      JSON.stringify({ name: "fresh", type: "module", private: true }),
    );
    await run("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      tarball,
    ], app);

    await Deno.writeTextFile(join(app, "app.mjs"), APP);
    const { token } = await newUser("pack");
    const output = await run("node", ["app.mjs"], app, {
      SUPABASE_URL: env.SUPABASE_URL,
      TOKEN: token,
    });
    assert.deepEqual(JSON.parse(output), {
      title: "from a fresh project",
      text: "packed and working",
      error: "not_found",
    });

    await Deno.writeTextFile(join(app, "typed.ts"), TYPED);
    await Deno.writeTextFile(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          noEmit: true,
          lib: ["ES2023", "DOM"],
          skipLibCheck: true,
        },
        files: ["typed.ts"],
      }),
    );
    await run(
      join(CLIENT, "node_modules/.bin/tsc"),
      ["-p", "tsconfig.json"],
      app,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
