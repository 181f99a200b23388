// Following a session's Server-Sent Events over fetch (so the JWT goes in a header), with
// reconnection: after a dropped connection, a clean early end (`stream-interrupted`, sent when
// the database was briefly away; `stream-timeout`) or a 5xx, the follower waits (bounded
// exponential backoff with jitter, or the server's `retry:` / Retry-After hint) and reconnects
// with `Last-Event-ID`, so the server resumes after the last event seen: nothing is lost and
// nothing repeats. A stream that simply ends before the final event (the server ends streams at
// their maximum life, below the platform's request timeouts) is reconnected the same way; a 429
// (too many open streams) is waited out as its Retry-After says. It stops after the final event
// (sync-complete / sync-error), on an answer that retrying cannot change (401, 403, 404, 400),
// or after too many failed attempts in a row (a stream that ran to its maximum life is not one).

import { ApiError, ErrorCodes, asApiError } from "./errors";
import { SseParser, type SseMessage } from "./sse";
import { SYNC_EVENT_TYPES, isFinal, type SyncEvent, type SyncEventType } from "./types";

export interface SessionHandlers {
  /** Each sync event, in order, once. */
  onEvent(event: SyncEvent): void;
  /** The live connection opened (true) or dropped (false). */
  onConnectionChange?(connected: boolean): void;
  /** The follower gave up (it has stopped); not called after close(). */
  onError?(error: ApiError): void;
}

export interface Subscription {
  close(): void;
  readonly closed: boolean;
}

export interface FollowOptions {
  /** Failed connections in a row (no event received) before giving up. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Until the answer's headers. */
  connectTimeoutMs?: number;
  /** Without a byte (the server sends a heartbeat every 15 s), the connection counts as dropped. */
  idleTimeoutMs?: number;
  /** Resume after this event id (e.g. kept from an earlier follower). */
  lastEventId?: string | null;
  /** Injected in tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
}

export type OpenStream = (lastEventId: string | null, signal: AbortSignal) => Promise<Response>;

const DEFAULTS = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  connectTimeoutMs: 15_000,
  idleTimeoutMs: 45_000,
};
/** The longest wait a server hint (retry:, Retry-After) may impose. */
const MAX_HINT_MS = 60_000;
/** Events that end a stream early on purpose; the client reconnects after them. */
const EARLY_ENDS = new Set(["stream-interrupted", "stream-timeout"]);

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

/** Integer ids compare as numbers; anything else only by equality. Id 0 is a session's state
 * before any event (a state, idempotent): never a duplicate. */
function alreadySeen(id: string | null, last: string | null): boolean {
  if (id === null || last === null || id === "0") return false;
  if (/^\d+$/.test(id) && /^\d+$/.test(last)) return Number(id) <= Number(last);
  return id === last;
}

export function followSse(
  open: OpenStream,
  handlers: SessionHandlers,
  options: FollowOptions = {},
): Subscription {
  const opts = { ...DEFAULTS, ...options };
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const stop = new AbortController();
  let lastId: string | null = options.lastEventId ?? null;
  let connected = false;
  let delivered = 0; // events handed to onEvent
  let timedOut = false; // this connection ended at the server's maximum stream life

  const setConnected = (value: boolean): void => {
    if (connected === value) return;
    connected = value;
    if (!stop.signal.aborted) handlers.onConnectionChange?.(value);
  };

  /** One connection: resolves how it ended. */
  async function connectOnce(): Promise<{
    final: boolean;
    hintMs: number | null;
    timedOut: boolean;
  }> {
    const attempt = new AbortController();
    const onStop = (): void => attempt.abort();
    stop.signal.addEventListener("abort", onStop);
    let timer = setTimeout(() => attempt.abort(), opts.connectTimeoutMs);
    let final = false;
    let hintMs: number | null = null;
    timedOut = false;
    try {
      let response: Response;
      try {
        response = await open(lastId, attempt.signal);
      } catch (error) {
        throw asApiError(error, attempt.signal.aborted && !stop.signal.aborted);
      }
      if (!response.ok) throw await ApiError.fromResponse(response);
      if (!response.body)
        throw new ApiError(0, ErrorCodes.badResponse, "the event stream has no body");
      setConnected(true);
      const parser = new SseParser(
        (message) => {
          if (handle(message) === "final") final = true;
        },
        (ms) => {
          hintMs = ms;
        },
      );
      const reader = response.body.getReader();
      // a timeout or close() ends the read at once, whatever the fetch does with its signal
      attempt.signal.addEventListener("abort", () => void reader.cancel().catch(() => undefined));
      const decoder = new TextDecoder();
      const armIdle = (): void => {
        clearTimeout(timer);
        timer = setTimeout(() => attempt.abort(), opts.idleTimeoutMs);
      };
      armIdle();
      try {
        while (!final) {
          const { done, value } = await reader.read();
          if (done) break;
          armIdle();
          parser.push(decoder.decode(value, { stream: true }));
        }
      } catch (error) {
        if (!stop.signal.aborted) throw asApiError(error);
      } finally {
        if (final || stop.signal.aborted) reader.cancel().catch(() => undefined);
      }
      return { final, hintMs, timedOut };
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener("abort", onStop);
      setConnected(false);
    }
  }

  /** One SSE message: "event" (delivered), "final" (delivered, the end), or "skip". */
  function handle(message: SseMessage): "event" | "final" | "skip" {
    if (stop.signal.aborted) return "skip";
    if (EARLY_ENDS.has(message.event)) {
      if (message.id !== null) lastId = message.id;
      if (message.event === "stream-timeout") timedOut = true;
      return "skip";
    }
    if (!SYNC_EVENT_TYPES.includes(message.event as SyncEventType)) return "skip";
    let data: unknown;
    try {
      data = JSON.parse(message.data);
    } catch {
      return "skip";
    }
    const event = { type: message.event, data } as SyncEvent;
    const repeat = alreadySeen(message.id, lastId);
    if (message.id !== null && !repeat) lastId = message.id;
    if (repeat && !isFinal(event)) return "skip";
    delivered += 1;
    handlers.onEvent(event);
    return isFinal(event) ? "final" : "event";
  }

  async function run(): Promise<void> {
    let failures = 0; // connections in a row that delivered nothing
    while (!stop.signal.aborted) {
      let waitMs: number | null = null;
      const before = delivered;
      let lived = false; // the stream ran to its maximum life: not a failure
      try {
        const result = await connectOnce();
        if (result.final) {
          stop.abort();
          return;
        }
        waitMs = result.hintMs;
        lived = result.timedOut;
      } catch (error) {
        if (stop.signal.aborted) return;
        const apiError = asApiError(error);
        // 429: too many open streams for now; wait as Retry-After says
        if (!apiError.retryable && apiError.status !== 429) return fail(apiError);
        if (apiError.retryAfter !== null) waitMs = apiError.retryAfter * 1000;
      }
      failures = delivered > before || lived ? 0 : failures + 1;
      if (failures >= opts.maxAttempts) {
        return fail(
          new ApiError(0, ErrorCodes.streamLost, "lost the live connection to the sync session"),
        );
      }
      const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, failures - 1));
      const delay = Math.min(MAX_HINT_MS, Math.max(waitMs ?? 0, backoff * (0.5 + random() / 2)));
      await sleep(delay, stop.signal);
    }
  }

  function fail(error: ApiError): void {
    if (stop.signal.aborted) return;
    stop.abort();
    handlers.onError?.(error);
  }

  void run();
  return {
    close: () => stop.abort(),
    get closed() {
      return stop.signal.aborted;
    },
  };
}
