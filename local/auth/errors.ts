// GoTrue's error bodies. Clients that send `X-Supabase-Api-Version: 2024-01-01` (auth-js does)
// get `{ code, message }` with the error code as `code`; older clients get
// `{ code: <status>, error_code, msg }`. supabase-js turns either into an AuthApiError whose
// `code` and `status` are these.

export class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields GoTrue adds to some errors (weak_password). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const API_VERSION = "X-Supabase-Api-Version";
const NEW_SHAPE = "2024-01-01";

/** Whether the client asked for the 2024-01-01 error shape. */
function newShape(req: Request): boolean {
  const version = req.headers.get(API_VERSION);
  return !!version && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= NEW_SHAPE;
}

export function errorResponse(req: Request, e: AuthError): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (newShape(req)) headers.set(API_VERSION, NEW_SHAPE);
  const body = newShape(req)
    ? { code: e.code, message: e.message, ...e.extra }
    : { code: e.status, error_code: e.code, msg: e.message, ...e.extra };
  return new Response(JSON.stringify(body), { status: e.status, headers });
}

export const badRequest = (code: string, message: string) => new AuthError(400, code, message);
export const validationFailed = (message: string) => badRequest("validation_failed", message);
