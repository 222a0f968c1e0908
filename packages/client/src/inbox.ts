// The inbox (functions `prompts`, `summaries`, `proposals`, `drafts`): free-text prompts over the
// user's Slack, Outlook and Telegram events, the summaries and proposals they produce, and reply
// drafts sent through the connectors.
import {
  type Api,
  type BodyOf,
  data,
  type QueryOf,
  type ResponseOf,
} from "./api.ts";

export function promptsResource(api: Api) {
  return {
    /** Runs a prompt: summarize, find what needs action, search or chat (the intent is inferred). */
    run: (body: BodyOf<"/prompts", "post">) =>
      data(api.POST("/prompts", { body })) as Promise<
        ResponseOf<"/prompts", "post">
      >,
    /** A prompt's record: intent, window, status and what it produced. */
    get: (id: string) =>
      data(api.GET("/prompts/{id}", { params: { path: { id } } })),
  };
}

export function summariesResource(api: Api) {
  return {
    list: (query: QueryOf<"/summaries", "get"> = {}) =>
      data(api.GET("/summaries", { params: { query } })),
    get: (id: string) =>
      data(api.GET("/summaries/{id}", { params: { path: { id } } })),
    delete: async (id: string) => {
      await api.DELETE("/summaries/{id}", { params: { path: { id } } });
    },
  };
}

export function proposalsResource(api: Api) {
  const decide = (
    id: string,
    status: BodyOf<"/proposals/{id}", "patch">["status"],
  ) =>
    data(
      api.PATCH("/proposals/{id}", {
        params: { path: { id } },
        body: { status },
      }),
    );
  return {
    list: (query: QueryOf<"/proposals", "get"> = {}) =>
      data(api.GET("/proposals", { params: { query } })),
    /** Accepts a proposal: its task is opened. */
    accept: (id: string) => decide(id, "accepted"),
    dismiss: (id: string) => decide(id, "dismissed"),
  };
}

export function draftsResource(api: Api) {
  return {
    list: (query: QueryOf<"/drafts", "get"> = {}) =>
      data(api.GET("/drafts", { params: { query } })),
    /** Edits a draft's text, or discards (or restores) it. */
    update: (id: string, body: BodyOf<"/drafts/{id}", "patch">) =>
      data(api.PATCH("/drafts/{id}", { params: { path: { id } }, body })),
    /** Sends a draft through its source's connector, at most once. */
    send: (id: string) =>
      data(api.POST("/drafts/{id}/send", { params: { path: { id } } })),
  };
}
