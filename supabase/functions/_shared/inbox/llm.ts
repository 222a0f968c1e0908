// The inbox's model calls: which models answer (app_settings inbox.router_model for routing,
// inbox.model for the rest), and the metering every call gets: one usage_ledger row per
// provider attempt, product "inbox", step "prompts.router", "prompts.summary", ...
import type { z } from "zod";
import type { CurrentUser } from "../auth.ts";
import { recordUsage } from "../chat/ledger.ts";
import { rememberedModelChain } from "../chat/models.ts";
import type { Tx } from "../db.ts";
import { type AttemptRecord, generateObject, type ObjectResult } from "../llm/index.ts";
import type { ChatRequest, ModelSpec } from "../llm/types.ts";
import type { InboxSettings } from "./settings.ts";

export type ProductStep =
  | "prompts.router"
  | "prompts.summary"
  | "prompts.summary_merge"
  | "prompts.tasks"
  | "prompts.search"
  | "prompts.chat"
  | "prompts.digest";

/** One prompt's run: who asked, and the ledger writes still in flight. */
export class InboxRun {
  readonly pending: Promise<void>[] = [];
  /** Provider attempts made, over every step. */
  calls = 0;

  constructor(
    readonly user: Pick<CurrentUser, "id" | "claims">,
    readonly requestId: string,
    readonly settings: InboxSettings,
    readonly models: { router: ModelSpec[]; main: ModelSpec[] },
  ) {}

  meter(step: ProductStep, conversationId: string | null = null) {
    return (a: AttemptRecord) => {
      this.calls++;
      this.pending.push(recordUsage({
        requestId: this.requestId,
        userId: this.user.id,
        conversationId,
        product: "inbox",
        productStep: step,
        provider: a.provider,
        model: a.model,
        providerModel: a.providerModel,
        attempt: a.attempt,
        status: a.status,
        usage: a.usage,
        latencyMs: a.latencyMs,
        ttftMs: a.ttftMs,
        errorType: a.errorKind,
        errorMessage: a.errorMessage,
      }));
    };
  }

  /** A validated object from the main (or router) model, metered as `step`. */
  object<T>(
    step: ProductStep,
    req: ChatRequest,
    schema: z.ZodType<T>,
    opts: { check?: (value: T) => string[]; name?: string; router?: boolean } = {},
  ): Promise<ObjectResult<T>> {
    return generateObject(
      opts.router ? this.models.router : this.models.main,
      {
        maxOutputTokens: 4096,
        timeoutMs: this.settings.callTimeoutMs,
        temperature: 0,
        ...req,
      },
      schema,
      {
        onAttempt: this.meter(step),
        maxRepairs: this.settings.maxRepairs,
        name: opts.name,
        check: opts.check,
      },
    );
  }

  /**
   * `object`, when what it cites must be among `allowed`: ids the model invented are pointed out
   * and asked about once more (same step); the ids still invented after that are returned, for
   * the caller to drop. Citations are never trusted, whatever the schema says.
   */
  async citingObject<T>(
    step: ProductStep,
    req: ChatRequest,
    schema: z.ZodType<T>,
    opts: { name: string; cited: (value: T) => string[]; allowed: Set<string> },
  ): Promise<{ object: T; invented: Set<string> }> {
    const invented = (value: T) => new Set(opts.cited(value).filter((id) => !opts.allowed.has(id)));
    let { object } = await this.object(step, req, schema, { name: opts.name });
    if (invented(object).size) {
      ({ object } = await this.object(
        step,
        {
          ...req,
          messages: [
            ...req.messages,
            { role: "assistant", content: JSON.stringify(object) },
            {
              role: "user",
              content: `These ids are not among the ones given above: ${
                [...invented(object)].join(", ")
              }. Cite only ids in square brackets from the list. Reply with the corrected JSON.`,
            },
          ],
        },
        schema,
        { name: opts.name },
      ));
    }
    return { object, invented: invented(object) };
  }

  /** Waits for the ledger rows, so a response is only sent once its cost is recorded. */
  async settle(): Promise<void> {
    await Promise.all(this.pending.splice(0));
  }
}

/** The chains for routing and for the rest; past the soft budget limit the downgrade model. */
export async function inboxModels(
  tx: Tx,
  settings: InboxSettings,
  downgradeModel?: string,
): Promise<InboxRun["models"]> {
  const main = downgradeModel ?? settings.model;
  return {
    router: await rememberedModelChain(tx, settings.routerModel, ["utility", "chat"]),
    main: await rememberedModelChain(tx, main, ["utility", "chat"]),
  };
}
