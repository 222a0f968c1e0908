// The one rule for where a model's calls go and with which key (llm/endpoints.ts): a default
// key (OPENAI_API_KEY, ANTHROPIC_API_KEY) only goes to its provider's host, the host of the
// deployment's <PREFIX>_BASE_URL, or hosts listed in <KEY>_HOSTS; other base URLs need their
// own key variable; openai_compatible has no defaults at all.
import assert from "node:assert/strict";
import { resolveEndpoint } from "../../supabase/functions/_shared/llm/endpoints.ts";

const VARS = [
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "OPENAI_API_KEY_HOSTS",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "AIDE_ENDPOINTS_TEST_KEY",
];

/** Runs `fn` with exactly these variables set (env is process-wide: restored afterwards). */
function withEnv(vars: Record<string, string>, fn: () => void) {
  const saved = Object.fromEntries(VARS.map((v) => [v, Deno.env.get(v)]));
  try {
    for (const v of VARS) Deno.env.delete(v);
    for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    }
  }
}

const openai = (extra: { baseUrl?: string; apiKeyEnv?: string } = {}) => ({
  alias: "m",
  provider: "openai" as const,
  ...extra,
});

Deno.test("a default key is only sent to its provider's host, the deployment's base URL, or an allowlisted host", () => {
  withEnv({ OPENAI_API_KEY: "sk-default", ANTHROPIC_API_KEY: "sk-ant" }, () => {
    assert.deepEqual(resolveEndpoint(openai()), {
      ok: true,
      apiKey: "sk-default",
      baseUrl: undefined,
    });
    assert.equal(resolveEndpoint(openai({ baseUrl: "https://api.openai.com/v1" })).ok, true);
    const evil = resolveEndpoint(openai({ baseUrl: "https://collector.evil.test/v1" }));
    assert.equal(evil.ok, false);
    assert.match(
      (evil as { reason: string }).reason,
      /OPENAI_API_KEY is not sent to collector\.evil\.test/,
    );
    // Naming the default key explicitly changes nothing.
    assert.equal(
      resolveEndpoint(
        openai({ baseUrl: "https://collector.evil.test/v1", apiKeyEnv: "OPENAI_API_KEY" }),
      ).ok,
      false,
    );
    // Nor does borrowing the other provider's default key.
    assert.equal(
      resolveEndpoint(
        openai({ baseUrl: "https://collector.evil.test/v1", apiKeyEnv: "ANTHROPIC_API_KEY" }),
      ).ok,
      false,
    );
    assert.equal(
      resolveEndpoint({ alias: "c", provider: "anthropic", baseUrl: "https://api.openai.com" }).ok,
      false,
      "the Anthropic key went to OpenAI's host",
    );
  });
  withEnv({ OPENAI_API_KEY: "sk-default", OPENAI_BASE_URL: "http://127.0.0.1:9999/v1" }, () => {
    // The deployment's own URL is where the default key goes, and rows may name it too.
    assert.deepEqual(resolveEndpoint(openai()), {
      ok: true,
      apiKey: "sk-default",
      baseUrl: "http://127.0.0.1:9999/v1",
    });
    assert.equal(resolveEndpoint(openai({ baseUrl: "http://127.0.0.1:9999/v1/" })).ok, true);
    assert.equal(resolveEndpoint(openai({ baseUrl: "http://localhost:9999/v1" })).ok, false);
  });
  withEnv({
    OPENAI_API_KEY: "sk-default",
    OPENAI_API_KEY_HOSTS: "proxy.example.com, other.example.com:8443",
  }, () => {
    assert.equal(resolveEndpoint(openai({ baseUrl: "https://proxy.example.com/v1" })).ok, true);
    assert.equal(
      resolveEndpoint(openai({ baseUrl: "https://other.example.com:8443/v1" })).ok,
      true,
    );
    assert.equal(resolveEndpoint(openai({ baseUrl: "https://other.example.com/v1" })).ok, false);
  });
});

Deno.test("another base URL needs its own key; openai_compatible needs both its URL and its key", () => {
  withEnv({ OPENAI_API_KEY: "sk-default", AIDE_ENDPOINTS_TEST_KEY: "sk-own" }, () => {
    assert.deepEqual(
      resolveEndpoint(
        openai({ baseUrl: "https://llm.example.com/v1", apiKeyEnv: "AIDE_ENDPOINTS_TEST_KEY" }),
      ),
      { ok: true, apiKey: "sk-own", baseUrl: "https://llm.example.com/v1" },
    );
    const compat = { alias: "c", provider: "openai_compatible" as const };
    assert.equal(resolveEndpoint(compat).ok, false);
    assert.equal(resolveEndpoint({ ...compat, baseUrl: "https://llm.example.com/v1" }).ok, false);
    assert.equal(resolveEndpoint({ ...compat, apiKeyEnv: "AIDE_ENDPOINTS_TEST_KEY" }).ok, false);
    assert.equal(
      resolveEndpoint({
        ...compat,
        baseUrl: "https://llm.example.com/v1",
        apiKeyEnv: "AIDE_ENDPOINTS_TEST_KEY",
      }).ok,
      true,
    );
    assert.equal(
      resolveEndpoint({
        ...compat,
        baseUrl: "https://llm.example.com/v1",
        apiKeyEnv: "OPENAI_API_KEY",
      }).ok,
      false,
    );
  });
});
