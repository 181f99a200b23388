// The client's one error type: an error answer of Guild Sync (`{"error": {"code", "message"}}`,
// a status, maybe Retry-After and the running session's id), or a request that got no answer.

/** Codes the server sends that the client acts on (and the client's own, for failures that
 * never reached an answer). */
export const ErrorCodes = {
  syncAlreadyRunning: "sync_already_running",
  reloginRequired: "relogin_required",
  blizzardUnavailable: "blizzard_unavailable",
  unauthorized: "unauthorized",
  network: "network_error",
  timeout: "timeout",
  streamLost: "stream_lost",
  syncFailed: "sync_failed",
  badResponse: "bad_response",
} as const;

/** An error answer (`{"error": {"code", "message"}}`) or a request that got none. */
export class ApiError extends Error {
  readonly status: number; // 0 when no answer came (network, timeout)
  readonly code: string;
  readonly sessionId: string | null; // 409 sync_already_running carries the running session
  readonly retryAfter: number | null; // seconds, from a Retry-After header

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { sessionId?: string | null; retryAfter?: number | null } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.sessionId = extra.sessionId ?? null;
    this.retryAfter = extra.retryAfter ?? null;
  }

  /** A 409 saying a sync is already running for the user: join `sessionId` instead. */
  get isSyncAlreadyRunning(): boolean {
    return (
      this.status === 409 &&
      this.sessionId !== null &&
      (this.code === ErrorCodes.syncAlreadyRunning || this.code === "conflict")
    );
  }

  /** The user must log in with Battle.net again (a 409 relogin_required, or a 401). */
  get needsLogin(): boolean {
    if (this.status === 401) return true;
    if (this.status !== 409) return false;
    return (
      this.code === ErrorCodes.reloginRequired || (this.code === "conflict" && !this.sessionId)
    );
  }

  /** Battle.net (or the path to it) is down: try again later. */
  get isBattleNetDown(): boolean {
    return (
      this.status === 502 ||
      this.status === 503 ||
      this.code === ErrorCodes.blizzardUnavailable ||
      this.code.startsWith("blizzard_")
    );
  }

  /** Worth trying again by itself (a dropped connection, a 5xx). */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500;
  }

  static async fromResponse(response: Response): Promise<ApiError> {
    const retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
    let body: unknown = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    const error = (body as { error?: Record<string, unknown> } | null)?.error;
    const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
    const sessionId = typeof error?.sessionId === "string" ? error.sessionId : null;
    return new ApiError(response.status, code, message, { sessionId, retryAfter });
  }
}

/** Retry-After as seconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/** Any failure of a request as an ApiError (status 0 when no answer came). */
export function asApiError(error: unknown, timedOut = false): ApiError {
  if (error instanceof ApiError) return error;
  if (timedOut) return new ApiError(0, ErrorCodes.timeout, "Guild Sync did not answer in time");
  if (error instanceof SyntaxError) {
    return new ApiError(0, ErrorCodes.badResponse, "Guild Sync sent an answer that is not JSON");
  }
  return new ApiError(0, ErrorCodes.network, "Guild Sync cannot be reached");
}
