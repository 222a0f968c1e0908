// The planner (functions `planner`, `goals`, `tasks`, `calendar`, `analytics`, `patterns`,
// `demo`): plan chat, goals and their tasks, one-off and recurring tasks, the calendar, progress.
import { type Api, type BodyOf, data, type QueryOf } from "./api.ts";
import type { Transport } from "./http.ts";
import { AideError } from "./errors.ts";
import { SimpleStream } from "./simple_stream.ts";

const path = (id: string) => ({ params: { path: { id } } });

/** How a planner turn finds and stops its reply (the conversations API's). */
export interface Replies {
  running: (conversationId: string) => Promise<string | null>;
  stop: (conversationId: string, messageId: string) => Promise<unknown>;
}

/** A planner turn streamed as simple events; stop() stops it through its conversation. */
function turn(
  transport: Transport,
  url: string,
  method: "POST" | "PATCH",
  body: { conversation_id?: string },
  replies: Replies,
  signal?: AbortSignal,
) {
  const conversationId = body.conversation_id;
  return new SimpleStream({
    open: (s) =>
      transport.fetch(`${url}?stream=simple`, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: s,
      }),
    // The simple stream names no reply before `done`: the running reply is found through the
    // conversation, so stop() needs the turn's conversation_id.
    findReply: () =>
      conversationId
        ? replies.running(conversationId)
        : Promise.reject(
          new AideError(
            0,
            "conversation_required",
            "stop() of a planner turn needs its conversation_id (GET /planner/plans/{id} names it)",
          ),
        ),
    stopReply: (messageId) => replies.stop(conversationId!, messageId),
    signal,
  });
}

export function plannerResource(
  api: Api,
  transport: Transport,
  replies: Replies,
) {
  return {
    /** A message to the planner; the reply (and any proposed plan) streams as simple events. */
    send: (
      body: BodyOf<"/planner/messages", "post">,
      options: { signal?: AbortSignal } = {},
    ) =>
      turn(
        transport,
        `${transport.functionsUrl}/planner/messages`,
        "POST",
        body,
        replies,
        options.signal,
      ),
    plan: (id: string) => data(api.GET("/planner/plans/{id}", path(id))),
    /** Approves a proposed plan: its goal, micro-goals and tasks are created. */
    approve: (
      id: string,
      body: BodyOf<"/planner/plans/{id}/approve", "post">,
    ) => data(api.POST("/planner/plans/{id}/approve", { ...path(id), body })),
  };
}

export function goalsResource(
  api: Api,
  transport: Transport,
  replies: Replies,
) {
  return {
    list: () => data(api.GET("/goals")),
    get: (id: string) => data(api.GET("/goals/{id}", path(id))),
    tasks: (id: string) => data(api.GET("/goals/{id}/tasks", path(id))),
    abandon: (id: string) => data(api.PATCH("/goals/{id}/abandon", path(id))),
    /** A planner turn that revises this goal (streams like planner.send). */
    modify: (
      id: string,
      body: BodyOf<"/goals/{id}/modify", "patch">,
      options: { signal?: AbortSignal } = {},
    ) =>
      turn(
        transport,
        `${transport.functionsUrl}/goals/${encodeURIComponent(id)}/modify`,
        "PATCH",
        body,
        replies,
        options.signal,
      ),
  };
}

export function tasksResource(api: Api) {
  return {
    /** By status and priority (with totals), or every occurrence in a time range. */
    list: (query: QueryOf<"/tasks", "get"> = {}) =>
      data(api.GET("/tasks", { params: { query } })),
    /** Today's tasks in the user's time zone. */
    today: () => data(api.GET("/tasks/today")),
    create: (body: BodyOf<"/tasks", "post">) =>
      data(api.POST("/tasks", { body })),
    get: (id: string) => data(api.GET("/tasks/{id}", path(id))),
    update: (id: string, body: BodyOf<"/tasks/{id}", "patch">) =>
      data(api.PATCH("/tasks/{id}", { ...path(id), body })),
    delete: async (id: string) => {
      await api.DELETE("/tasks/{id}", path(id));
    },
    complete: (id: string) => data(api.PATCH("/tasks/{id}/complete", path(id))),
    missed: (id: string) => data(api.PATCH("/tasks/{id}/missed", path(id))),
    reschedule: (id: string, body: BodyOf<"/tasks/{id}/reschedule", "post">) =>
      data(api.POST("/tasks/{id}/reschedule", { ...path(id), body })),
    /** Changes a recurring series' rule, start or duration. */
    updateSeries: (id: string, body: BodyOf<"/tasks/series/{id}", "patch">) =>
      data(api.PATCH("/tasks/series/{id}", { ...path(id), body })),
  };
}

export function calendarResource(api: Api) {
  return {
    list: (query: QueryOf<"/calendar/events", "get">) =>
      data(api.GET("/calendar/events", { params: { query } })),
    create: (body: BodyOf<"/calendar/events", "post">) =>
      data(api.POST("/calendar/events", { body })),
    update: (id: string, body: BodyOf<"/calendar/events/{id}", "put">) =>
      data(api.PUT("/calendar/events/{id}", { ...path(id), body })),
    delete: async (id: string) => {
      await api.DELETE("/calendar/events/{id}", path(id));
    },
  };
}

export function analyticsResource(api: Api) {
  return {
    overview: () => data(api.GET("/analytics/overview")),
    weekly: (query: QueryOf<"/analytics/weekly", "get"> = {}) =>
      data(api.GET("/analytics/weekly", { params: { query } })),
    goals: () => data(api.GET("/analytics/goals")),
    missedByCategory: () => data(api.GET("/analytics/missed-by-cat")),
  };
}

export function patternsResource(api: Api) {
  return {
    list: () => data(api.GET("/patterns")),
    get: (id: string) => data(api.GET("/patterns/{id}", path(id))),
    update: (id: string, body: BodyOf<"/patterns/{id}", "patch">) =>
      data(api.PATCH("/patterns/{id}", { ...path(id), body })),
    delete: async (id: string) => {
      await api.DELETE("/patterns/{id}", path(id));
    },
  };
}

export function demoResource(api: Api) {
  return {
    /** Simulates arriving at a place: its open tasks start now and their reminders follow. */
    triggerLocation: (body: BodyOf<"/demo/trigger-location", "post">) =>
      data(api.POST("/demo/trigger-location", { body })),
  };
}
