// @aide/client: a typed client for the Aide API.
//
//   const aide = createAideClient({ url: SUPABASE_URL, supabase });
//   const conversation = await aide.conversations.create({ title: "Trip" });
//   for await (const event of aide.streamSimple(conversation.id, { content: "Hi" })) ...
//   useChat({ id, transport: aide.chatTransport(id) });
import { accountResource, healthCheck, modelsResource } from "./account.ts";
import { createApi } from "./api.ts";
import {
  AideChatTransport,
  type ChatTransportOptions,
} from "./chat_transport.ts";
import { conversationsResource } from "./conversations.ts";
import { documentsResource, searchFunction } from "./documents.ts";
import { type AideClientOptions, createTransport } from "./http.ts";
import {
  draftsResource,
  promptsResource,
  proposalsResource,
  summariesResource,
} from "./inbox.ts";
import {
  analyticsResource,
  calendarResource,
  demoResource,
  goalsResource,
  patternsResource,
  plannerResource,
  tasksResource,
} from "./planner.ts";
import { pushResource } from "./push.ts";
import {
  connectorsResource,
  eventsResource,
  notesResource,
  threadsResource,
} from "./workspace.ts";
import { adminResource, usageResource } from "./usage.ts";

export function createAideClient(options: AideClientOptions) {
  const transport = createTransport(options);
  const api = createApi(transport);
  const conversations = conversationsResource(api, transport);
  const plannerReplies = {
    running: conversations.runningReply,
    stop: conversations.stop,
  };
  return {
    conversations,
    documents: documentsResource(api, transport),
    search: searchFunction(api),
    usage: usageResource(api),
    account: accountResource(api),
    models: modelsResource(api),
    admin: adminResource(api),
    health: healthCheck(api),
    // The inbox
    prompts: promptsResource(api),
    summaries: summariesResource(api),
    proposals: proposalsResource(api),
    drafts: draftsResource(api),
    // What the inbox reads: linked accounts, their events and threads, notes
    connectors: connectorsResource(api),
    events: eventsResource(api),
    threads: threadsResource(api),
    notes: notesResource(api),
    // The planner
    planner: plannerResource(api, transport, plannerReplies),
    goals: goalsResource(api, transport, plannerReplies),
    tasks: tasksResource(api),
    calendar: calendarResource(api),
    analytics: analyticsResource(api),
    patterns: patternsResource(api),
    demo: demoResource(api),
    /** Web Push for reminders. */
    push: pushResource(api),
    /** Streams a reply as simple events (`for await`), with stop() and text(). */
    streamSimple: conversations.send,
    /** A useChat transport for one conversation (stop, regenerate, resume, edits). */
    chatTransport: <
      M extends import("ai").UIMessage =
        import("./ui_messages.ts").AideUIMessage,
    >(
      conversationId: string,
      transportOptions?: ChatTransportOptions,
    ) =>
      new AideChatTransport<M>(
        transport,
        conversations,
        conversationId,
        transportOptions,
      ),
    /** The typed openapi-fetch client, for any operation (`api.GET("/health")`). */
    api,
  };
}

export type AideClient = ReturnType<typeof createAideClient>;

export { AideError, isAideError } from "./errors.ts";
export { retryDelayMs } from "./http.ts";
export type { AideClientOptions, RetryInfo, SupabaseAuthLike } from "./http.ts";
export { AideChatTransport } from "./chat_transport.ts";
export type { AideChatBody, ChatTransportOptions } from "./chat_transport.ts";
export { SimpleStream } from "./simple_stream.ts";
export type { Citation, SimpleEvent, SimpleReply } from "./simple_stream.ts";
export type { UploadProgress } from "./upload.ts";
export type {
  Document,
  SearchQuery,
  UploadOptions,
  WaitOptions,
} from "./documents.ts";
export type { Conversation, SendOptions } from "./conversations.ts";
export { citationsOf, toUIMessage, toUIMessages } from "./ui_messages.ts";
export type {
  AideMessageMetadata,
  AideUIMessage,
  SourceCitation,
  StoredMessage,
  StoredPart,
} from "./ui_messages.ts";
export type { paths } from "./generated/openapi.ts";
export type { Database, Json } from "./generated/database.ts";
