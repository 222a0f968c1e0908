// Database refusals that are the caller's fault, as API errors: a check constraint or trigger
// (23514) is invalid input, a parent row the caller does not own (23503) is not found.
import { ApiError } from "../http.ts";

export async function refusalsAsApiErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message;
    if (code === "23514") throw new ApiError(422, "invalid", message);
    if (code === "23503") throw new ApiError(404, "not_found", message);
    throw e;
  }
}

export const notFound = (what: string) => new ApiError(404, "not_found", `${what} not found`);
