// Suggested actions from task detection: list them, accept or dismiss one (once).
import { z } from "@hono/zod-openapi";
import { createApp } from "../_shared/app.ts";
import { type AuthedEnv, requireUser } from "../_shared/auth.ts";
import { asUser } from "../_shared/db.ts";
import { decideProposal, proposalJson } from "../_shared/inbox/proposals.ts";
import { listProposals } from "../_shared/inbox/queries.ts";
import { PageQuery, ProposalSchema } from "../_shared/inbox/schemas.ts";
import { limitWrites } from "../_shared/limits.ts";
import { json, jsonBody, route, uuidParams } from "../_shared/openapi.ts";

export const app = createApp<AuthedEnv>("proposals");
app.use("*", requireUser);
app.use("*", limitWrites());

const Status = z.enum(["pending", "accepted", "dismissed"]);

const list = route({
  method: "get",
  path: "/",
  summary: "The caller's proposals, newest first",
  auth: "user",
  request: { query: z.strictObject({ status: Status.optional(), ...PageQuery }) },
  responses: {
    200: json(
      z.object({ proposals: z.array(ProposalSchema), next_cursor: z.string().nullable() }),
      "A page of proposals",
    ),
  },
  errors: { 400: "Invalid query parameters or cursor" },
});

app.openapi(list, async (c) => {
  const page = await asUser(c.get("user").claims, (tx) => listProposals(tx, c.req.valid("query")));
  return c.json({
    proposals: page.items.map(proposalJson) as z.infer<typeof ProposalSchema>[],
    next_cursor: page.next_cursor,
  }, 200);
});

const decide = route({
  method: "patch",
  path: "/{id}",
  summary: "Accept (its task is opened) or dismiss a proposal",
  auth: "user",
  request: {
    params: uuidParams("id"),
    body: jsonBody(z.strictObject({ status: z.enum(["accepted", "dismissed"]) })),
  },
  responses: { 200: json(ProposalSchema, "The decided proposal") },
  errors: {
    404: "Not found",
    409: "Already decided the other way",
    429: "Rate limited",
  },
});

app.openapi(decide, async (c) => {
  const { id } = c.req.valid("param");
  const { status } = c.req.valid("json");
  const decided = await decideProposal(c.get("user"), id, status);
  return c.json(proposalJson(decided) as z.infer<typeof ProposalSchema>, 200);
});
