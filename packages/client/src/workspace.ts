// The workspace the inbox reads (functions `connectors`, `events`, `threads`, `notes`): linked
// Slack, Outlook and Telegram accounts, the events and threads they brought in, and notes.
import { type Api, type BodyOf, data, type QueryOf } from "./api.ts";

export function connectorsResource(api: Api) {
  return {
    /** Linked accounts with status, scopes, last event and last error. */
    list: () => data(api.GET("/connectors")),
    /** Disconnects an account (revoked at the platform); `purge` also deletes its events. */
    disconnect: async (id: string, options: { purge?: boolean } = {}) => {
      await api.DELETE("/connectors/{id}", {
        params: {
          path: { id },
          query: { purge: options.purge ? "true" : "false" },
        },
      });
    },
    /** Starts a Slack install: open `authorize_url` in the browser. */
    slackInstall: () => data(api.GET("/connectors/slack/oauth/initiate")),
    /** Starts an Outlook connection (PKCE): open `authorize_url` in the browser. */
    outlookConnect: () => data(api.GET("/connectors/outlook/oauth/initiate")),
    /** A single-use code and bot link to link the user's Telegram account. */
    telegramLink: () => data(api.POST("/connectors/telegram/link")),
    /** Admins: points the Telegram bot's webhook at this project. */
    telegramSetup: () => data(api.POST("/connectors/telegram/setup")),
  };
}

export function eventsResource(api: Api) {
  return {
    list: (query: QueryOf<"/events", "get"> = {}) =>
      data(api.GET("/events", { params: { query } })),
    get: (id: string) =>
      data(api.GET("/events/{id}", { params: { path: { id } } })),
    delete: async (id: string) => {
      await api.DELETE("/events/{id}", { params: { path: { id } } });
    },
  };
}

export function threadsResource(api: Api) {
  return {
    list: (query: QueryOf<"/threads", "get"> = {}) =>
      data(api.GET("/threads", { params: { query } })),
  };
}

export function notesResource(api: Api) {
  return {
    list: (query: QueryOf<"/notes", "get"> = {}) =>
      data(api.GET("/notes", { params: { query } })),
    create: (body: BodyOf<"/notes", "post">) =>
      data(api.POST("/notes", { body })),
    get: (id: string) =>
      data(api.GET("/notes/{id}", { params: { path: { id } } })),
    update: (id: string, body: BodyOf<"/notes/{id}", "patch">) =>
      data(api.PATCH("/notes/{id}", { params: { path: { id } }, body })),
    delete: async (id: string) => {
      await api.DELETE("/notes/{id}", { params: { path: { id } } });
    },
  };
}
