// The tools offered to the chat model.
import { z } from "zod";
import { knowledgeTools } from "../knowledge/tools.ts";
import { IanaTimeZone } from "../timezone.ts";
import { defineTool, type Tool } from "../tool.ts";
import { createArtifact, CreateArtifactInput } from "./artifacts.ts";

export const currentTime = defineTool(
  "get_current_time",
  "The current date and time, in the user's time zone unless another IANA time zone is given.",
  z.object({ timezone: IanaTimeZone.optional() }),
  ({ timezone }, ctx) => {
    const zone = timezone ?? ctx.timezone;
    const now = new Date();
    const local = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      dateStyle: "full",
      timeStyle: "long",
    }).format(now);
    return Promise.resolve({ utc: now.toISOString(), timezone: zone, local });
  },
);

export const createArtifactTool = defineTool(
  "create_artifact",
  "Save a file for the user to download: a whole text or code file, or a unified diff " +
    "(kind file_diff). Use it when the user asks for a file, or for code or data too long to " +
    "read comfortably in the reply; then say in the reply what the file holds.",
  CreateArtifactInput,
  (input, ctx) => createArtifact(ctx, input),
);

/** The tools offered in chat. */
export const chatTools: Tool[] = [currentTime, createArtifactTool, ...knowledgeTools];
