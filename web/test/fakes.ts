// Test doubles: a scripted fetch (routes answered in order, requests recorded) and event
// streams a test writes to as it goes.

import type { SyncCompleteData, SyncProgressData } from "../src/types";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
  signal: AbortSignal | null;
}

type Responder = (request: RecordedRequest) => Response | Promise<Response>;

/** A Server-Sent Events body the test feeds: send() events, drop() the connection, end(). */
export class EventStream {
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private readonly encoder = new TextEncoder();
  private done = false;
  readonly body: ReadableStream<Uint8Array>;
  cancelled = false;

  constructor() {
    this.body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        this.cancelled = true;
        this.done = true;
      },
    });
  }

  raw(text: string): this {
    if (!this.done) this.controller.enqueue(this.encoder.encode(text));
    return this;
  }

  send(event: string, data: unknown, id?: number | string, retry?: number): this {
    const head =
      (retry !== undefined ? `retry: ${retry}\n` : "") + (id !== undefined ? `id: ${id}\n` : "");
    return this.raw(`${head}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  /** The connection drops (a network error while reading). */
  drop(): void {
    if (this.done) return;
    this.done = true;
    this.controller.error(new TypeError("network error"));
  }

  /** The server ends the response. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.controller.close();
  }

  response(): Response {
    return new Response(this.body, {
      status: 200,
      headers: { "Content-Type": "text/event-stream" },
    });
  }
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

export function apiError(
  status: number,
  code: string,
  message: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return json(status, { error: { code, message, ...extra } }, headers);
}

/** A fetch that answers each "METHOD /path" from a queue of responders, in order. */
export class FakeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly routes = new Map<string, Responder[]>();

  on(method: string, path: string, ...responders: (Responder | Response)[]): this {
    const key = `${method} ${path}`;
    const queue = this.routes.get(key) ?? [];
    queue.push(...responders.map((r) => (typeof r === "function" ? r : () => r)));
    this.routes.set(key, queue);
    return this;
  }

  /** Streams answered in order for a session's events. */
  streams(sessionId: string, ...streams: EventStream[]): this {
    return this.on(
      "GET",
      `/api/v1/characters/sync/${sessionId}/events`,
      ...streams.map((s) => () => s.response()),
    );
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => new URL(r.url, "http://x").pathname === path);
  }

  readonly fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = init.method ?? "GET";
    const request: RecordedRequest = {
      method,
      url,
      headers: new Headers(init.headers),
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
      signal: init.signal ?? null,
    };
    this.requests.push(request);
    const path = new URL(url, "http://x").pathname;
    const queue = this.routes.get(`${method} ${path}`);
    const responder = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    if (!responder) throw new TypeError(`no fake route for ${method} ${path}`);
    if (request.signal?.aborted) throw new DOMException("aborted", "AbortError");
    return responder(request);
  }) as typeof fetch;
}

export const SID = "8d0b4c8e-1111-4a4a-9b9b-000000000001";

export function progressData(
  processed: number,
  total: number,
  current: SyncProgressData["currentCharacter"] = null,
  failed = 0,
  sessionId = SID,
): SyncProgressData {
  return {
    sessionId,
    status: "processing",
    totalCharacters: total,
    processedCharacters: processed,
    failedCharacters: failed,
    progressPercentage: total ? Math.floor((100 * processed) / total) : 100,
    currentCharacter: current,
  };
}

export function completeData(total: number, failed = 0, sessionId = SID): SyncCompleteData {
  return {
    sessionId,
    status: "completed",
    totalCharacters: total,
    processedCharacters: total,
    failedCharacters: failed,
    progressPercentage: 100,
  };
}

export const ALPHA = { id: 11, name: "Alpha", realm: "Area 52" };
export const GHOST = { id: 12, name: "Ghost", realm: "Area 52" };

/** Let pending promises and stream reads run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i += 1) await new Promise((resolve) => setTimeout(resolve, 0));
}
