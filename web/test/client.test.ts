// @vitest-environment node
import { describe, expect, it, vi } from "vitest";

import { ApiError, GuildSyncClient, parseRetryAfter } from "../src/api";
import type { FollowOptions, SessionHandlers } from "../src/events";
import type { SyncEvent } from "../src/types";
import {
  ALPHA,
  EventStream,
  FakeApi,
  GHOST,
  SID,
  apiError,
  completeData,
  flush,
  json,
  progressData,
} from "./fakes";

const TOKEN = "header.payload.signature";
const EVENTS = `/api/v1/characters/sync/${SID}/events`;

function client(api: FakeApi, timeoutMs?: number): GuildSyncClient {
  return new GuildSyncClient({ baseUrl: "", getToken: () => TOKEN, fetch: api.fetch, timeoutMs });
}

interface Followed {
  events: SyncEvent[];
  connections: boolean[];
  errors: ApiError[];
  sleeps: number[];
  handlers: SessionHandlers;
  options: FollowOptions;
}

function recorder(): Followed {
  const out: Followed = {
    events: [],
    connections: [],
    errors: [],
    sleeps: [],
    handlers: {
      onEvent: (e) => out.events.push(e),
      onConnectionChange: (c) => out.connections.push(c),
      onError: (e) => out.errors.push(e),
    },
    options: {
      random: () => 1,
      sleep: async (ms) => {
        out.sleeps.push(ms);
      },
    },
  };
  return out;
}

describe("requests", () => {
  it("starts a sync with the token in the Authorization header, never in the URL", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      json(202, { message: "Character sync started", sessionId: SID, syncedCharacters: 2 }),
    );
    const started = await client(api).startSync("classic_era");
    expect(started.sessionId).toBe(SID);
    const [request] = api.requests;
    expect(request?.headers.get("Authorization")).toBe(`Bearer ${TOKEN}`);
    expect(request?.body).toEqual({ gameVersion: "classic_era" });
    expect(request?.url).not.toContain(TOKEN);
  });

  it("enriches one character and lists characters", async () => {
    const api = new FakeApi()
      .on(
        "POST",
        "/api/v1/characters/11/enrich",
        json(202, { sessionId: SID, jobId: 3, character: ALPHA }),
      )
      .on("GET", "/api/v1/characters", json(200, { characters: [{ ...ALPHA, level: 70 }] }));
    expect((await client(api).enrich(11)).sessionId).toBe(SID);
    expect(await client(api).listCharacters()).toEqual([{ ...ALPHA, level: 70 }]);
  });

  it("maps the error shape: 409 already running carries the session to join", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      apiError(409, "sync_already_running", "a character sync is already running", {
        sessionId: SID,
      }),
    );
    const error = await client(api)
      .startSync("retail")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "sync_already_running", sessionId: SID });
    expect((error as ApiError).isSyncAlreadyRunning).toBe(true);
    expect((error as ApiError).needsLogin).toBe(false);
  });

  it("409 relogin_required means: log in again", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      apiError(409, "relogin_required", "log in with Battle.net again"),
    );
    const error = (await client(api)
      .startSync("retail")
      .catch((e: unknown) => e)) as ApiError;
    expect(error.needsLogin).toBe(true);
    expect(error.isSyncAlreadyRunning).toBe(false);
  });

  it("503 with Retry-After: Battle.net is down, retry later", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      apiError(
        503,
        "blizzard_unavailable",
        "Battle.net is unavailable",
        {},
        { "Retry-After": "30" },
      ),
    );
    const error = (await client(api)
      .startSync("retail")
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toMatchObject({ status: 503, retryAfter: 30 });
    expect(error.isBattleNetDown).toBe(true);
  });

  it("a request without an answer is an ApiError with status 0", async () => {
    const api = new FakeApi().on("GET", "/api/v1/characters", () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(client(api).listCharacters()).rejects.toMatchObject({
      status: 0,
      code: "network_error",
    });
  });

  it("times out a request that hangs", async () => {
    const api = new FakeApi().on(
      "GET",
      "/api/v1/characters",
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal?.addEventListener("abort", () =>
            reject(new DOMException("aborted", "AbortError")),
          );
        }),
    );
    await expect(client(api, 20).listCharacters()).rejects.toMatchObject({
      status: 0,
      code: "timeout",
    });
  });

  it("reads Retry-After as seconds or a date", () => {
    expect(parseRetryAfter("12")).toBe(12);
    expect(parseRetryAfter("Wed, 01 Dec 2027 00:01:00 GMT", Date.UTC(2027, 11, 1, 0, 0, 0))).toBe(
      60,
    );
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });

  it("reads a session's state as the event it stands for", async () => {
    const api = new FakeApi().on(
      "GET",
      `/api/v1/characters/sync/${SID}`,
      json(200, completeData(2)),
      json(200, { sessionId: SID, error: "expired" }),
    );
    expect((await client(api).getSyncState(SID)).type).toBe("sync-complete");
    expect((await client(api).getSyncState(SID)).type).toBe("sync-error");
  });
});

describe("followSession", () => {
  it("delivers the events in order and stops after sync-complete", async () => {
    const stream = new EventStream();
    const api = new FakeApi().streams(SID, stream);
    const f = recorder();
    const sub = client(api).followSession(SID, f.handlers, f.options);
    await flush();
    expect(f.connections).toEqual([true]);
    stream
      .send("sync-progress", progressData(0, 2), 0)
      .send("sync-progress", progressData(0, 2, { ...ALPHA, status: "processing" }), 4)
      .send("sync-progress", progressData(1, 2, { ...ALPHA, status: "completed" }), 5)
      .raw(": keep-alive\n\n")
      .send("sync-progress", progressData(2, 2, { ...GHOST, status: "failed" }, 1), 6)
      .send("sync-complete", completeData(2, 1), 7);
    await flush();
    expect(f.events.map((e) => e.type)).toEqual([
      "sync-progress",
      "sync-progress",
      "sync-progress",
      "sync-progress",
      "sync-complete",
    ]);
    expect(f.connections).toEqual([true, false]);
    expect(sub.closed).toBe(true);
    expect(stream.cancelled).toBe(true);
    const [request] = api.requestsTo(EVENTS);
    expect(request?.headers.get("Authorization")).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.get("Last-Event-ID")).toBeNull();
    expect(f.errors).toEqual([]);
  });

  it("resumes a dropped stream with Last-Event-ID: nothing lost, nothing repeated", async () => {
    const first = new EventStream();
    const second = new EventStream();
    const api = new FakeApi().streams(SID, first, second);
    const f = recorder();
    client(api).followSession(SID, f.handlers, f.options);
    await flush();
    first
      .send("sync-progress", progressData(0, 3), 2)
      .send("sync-progress", progressData(1, 3, { ...ALPHA, status: "completed" }), 5);
    await flush();
    first.drop();
    await flush();
    const resumed = api.requestsTo(EVENTS)[1];
    expect(resumed?.headers.get("Last-Event-ID")).toBe("5");
    // a server that repeats the last event (or an older one) is not believed twice
    second
      .send("sync-progress", progressData(1, 3, { ...ALPHA, status: "completed" }), 5)
      .send("sync-progress", progressData(2, 3, { ...GHOST, status: "failed" }, 1), 6)
      .send(
        "sync-progress",
        progressData(3, 3, { id: 13, name: "Cleo", realm: "Area 52", status: "completed" }, 1),
        9,
      )
      .send("sync-complete", completeData(3, 1), 10);
    await flush();
    const processed = f.events.map((e) =>
      e.type === "sync-progress" ? e.data.processedCharacters : e.type,
    );
    expect(processed).toEqual([0, 1, 2, 3, "sync-complete"]);
    expect(f.connections).toEqual([true, false, true, false]);
    expect(f.errors).toEqual([]);
    expect(f.sleeps).toHaveLength(1);
  });

  it("reconnects after stream-interrupted, waiting as the retry hint says", async () => {
    const first = new EventStream();
    const second = new EventStream();
    const api = new FakeApi().streams(SID, first, second);
    const f = recorder();
    client(api).followSession(SID, f.handlers, f.options);
    await flush();
    first
      .send("sync-progress", progressData(1, 2), 3)
      .send("stream-interrupted", { sessionId: SID, lastEventId: 3 }, 3, 2000);
    first.end();
    await flush();
    expect(f.sleeps).toEqual([2000]);
    expect(api.requestsTo(EVENTS)[1]?.headers.get("Last-Event-ID")).toBe("3");
    second.send("sync-complete", completeData(2), 4);
    await flush();
    expect(f.events.map((e) => e.type)).toEqual(["sync-progress", "sync-complete"]);
  });

  it("reconnects after streams that end at their maximum life, however many", async () => {
    const lived = Array.from({ length: 4 }, () => new EventStream());
    const last = new EventStream();
    const api = new FakeApi().streams(SID, ...lived, last);
    const f = recorder();
    client(api).followSession(SID, f.handlers, { ...f.options, maxAttempts: 2 });
    for (const stream of lived) {
      await flush();
      stream.send("stream-timeout", { sessionId: SID }, 5, 2000);
      stream.end();
    }
    await flush();
    last.send("sync-complete", completeData(2), 6);
    await flush();
    expect(api.requestsTo(EVENTS)).toHaveLength(5);
    expect(api.requestsTo(EVENTS)[4]?.headers.get("Last-Event-ID")).toBe("5");
    expect(f.errors).toEqual([]);
    expect(f.events.map((e) => e.type)).toEqual(["sync-complete"]);
  });

  it("waits out a 429 (too many open streams) as Retry-After says, then reconnects", async () => {
    const stream = new EventStream();
    const api = new FakeApi().on(
      "GET",
      EVENTS,
      apiError(
        429,
        "too_many_requests",
        "at most 10 open event streams per user",
        {},
        {
          "Retry-After": "9",
        },
      ),
      () => stream.response(),
    );
    const f = recorder();
    client(api).followSession(SID, f.handlers, f.options);
    await flush();
    stream.send("sync-complete", completeData(2), 4);
    await flush();
    expect(f.sleeps).toEqual([9000]);
    expect(f.errors).toEqual([]);
    expect(f.events.map((e) => e.type)).toEqual(["sync-complete"]);
  });

  it("backs off on 5xx (Retry-After honoured) and gives up after a bounded number of tries", async () => {
    const api = new FakeApi().on(
      "GET",
      EVENTS,
      apiError(503, "database_error", "database unavailable", {}, { "Retry-After": "7" }),
      apiError(500, "database_error", "database unavailable"),
    );
    const f = recorder();
    client(api).followSession(SID, f.handlers, {
      ...f.options,
      maxAttempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 300,
    });
    await flush(20);
    expect(api.requestsTo(EVENTS)).toHaveLength(4);
    expect(f.sleeps).toEqual([7000, 200, 300]);
    expect(f.errors.map((e) => e.code)).toEqual(["stream_lost"]);
    expect(f.events).toEqual([]);
  });

  it("keeps reconnecting while each connection makes progress", async () => {
    const streams = Array.from({ length: 5 }, () => new EventStream());
    const api = new FakeApi().streams(SID, ...streams);
    const f = recorder();
    client(api).followSession(SID, f.handlers, { ...f.options, maxAttempts: 2 });
    for (const [i, stream] of streams.entries()) {
      await flush();
      if (i === streams.length - 1) {
        stream.send("sync-complete", completeData(4), 10 + i);
      } else {
        stream.send("sync-progress", progressData(i + 1, 4), 10 + i);
        await flush();
        stream.drop();
      }
    }
    await flush();
    expect(f.errors).toEqual([]);
    expect(f.events.map((e) => e.type)).toEqual([
      ...Array(4).fill("sync-progress"),
      "sync-complete",
    ]);
    const resumedFrom = api.requestsTo(EVENTS).map((r) => r.headers.get("Last-Event-ID"));
    expect(resumedFrom).toEqual([null, "10", "11", "12", "13"]);
  });

  it("does not retry an answer retrying cannot change (404)", async () => {
    const api = new FakeApi().on("GET", EVENTS, apiError(404, "not_found", "no such sync session"));
    const f = recorder();
    client(api).followSession(SID, f.handlers, f.options);
    await flush();
    expect(api.requestsTo(EVENTS)).toHaveLength(1);
    expect(f.errors.map((e) => [e.status, e.code])).toEqual([[404, "not_found"]]);
  });

  it("close() stops delivering and hangs up", async () => {
    const stream = new EventStream();
    const api = new FakeApi().streams(SID, stream);
    const f = recorder();
    const sub = client(api).followSession(SID, f.handlers, f.options);
    await flush();
    stream.send("sync-progress", progressData(0, 2), 0);
    await flush();
    sub.close();
    stream.send("sync-progress", progressData(1, 2), 1);
    await flush();
    expect(f.events).toHaveLength(1);
    expect(f.errors).toEqual([]);
    expect(api.requestsTo(EVENTS)).toHaveLength(1);
  });

  it("treats a silent connection as dropped (idle timeout) and resumes", async () => {
    vi.useFakeTimers();
    try {
      const first = new EventStream();
      const second = new EventStream();
      const api = new FakeApi().streams(SID, first, second);
      const f = recorder();
      client(api).followSession(SID, f.handlers, { ...f.options, idleTimeoutMs: 1000 });
      await vi.advanceTimersByTimeAsync(10);
      first.send("sync-progress", progressData(0, 1), 1);
      await vi.advanceTimersByTimeAsync(1500);
      expect(api.requestsTo(EVENTS)).toHaveLength(2);
      expect(api.requestsTo(EVENTS)[1]?.headers.get("Last-Event-ID")).toBe("1");
    } finally {
      vi.useRealTimers();
    }
  });
});
