// Hash routes, so a reload keeps the page (and the conversation whose reply resumes).
import { useEffect, useState } from "react";

export type Route =
  | { page: "chat"; conversationId: string | null }
  | { page: "documents" }
  | { page: "usage" }
  | { page: "inbox" }
  | { page: "planner" };

function parse(hash: string): Route {
  const [, page, id] = hash.replace(/^#/, "").split("/");
  if (page === "documents") return { page: "documents" };
  if (page === "usage") return { page: "usage" };
  if (page === "inbox") return { page: "inbox" };
  if (page === "planner") return { page: "planner" };
  return { page: "chat", conversationId: page === "c" && id ? id : null };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parse(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export const go = (path: string) => {
  location.hash = path;
};
