import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";

import { GuildSyncClient } from "../src/api";
import type { RealtimeChannelLike, RealtimeSource } from "../src/realtime";
import { useCharacterSync } from "../src/useCharacterSync";
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

const OTHER = "8d0b4c8e-2222-4a4a-9b9b-000000000002";
const EVENTS = `/api/v1/characters/sync/${SID}/events`;

function setup(api: FakeApi, realtime?: RealtimeSource) {
  const client = new GuildSyncClient({ getToken: () => "jwt", fetch: api.fetch });
  return renderHook(() => useCharacterSync({ client, realtime: realtime ?? null }));
}

function started(characters = [ALPHA, GHOST]) {
  return json(202, {
    message: "Character sync started",
    sessionId: SID,
    syncedCharacters: characters.length,
    characters,
  });
}

async function step(fn: () => void = () => {}): Promise<void> {
  await act(async () => {
    fn();
    await flush();
  });
}

describe("useCharacterSync", () => {
  it("follows a sync from start to sync-complete", async () => {
    const stream = new EventStream();
    const api = new FakeApi().on("POST", "/api/v1/characters/sync", started()).streams(SID, stream);
    const { result } = setup(api);
    expect(result.current).toMatchObject({
      progress: null,
      error: null,
      isSyncing: false,
      isComplete: false,
      isConnected: false,
    });

    let sessionId: string | null = null;
    await step(() => {
      void result.current.startSync("retail").then((id) => (sessionId = id));
    });
    expect(sessionId).toBe(SID);
    expect(result.current.isSyncing).toBe(true);
    expect(result.current.isConnected).toBe(true);

    // a session this page started is followed from its first event, so a sync that ends before
    // the stream opens still shows each character's result
    const [opened] = api.requestsTo(`/api/v1/characters/sync/${SID}/events`);
    expect(opened?.headers.get("Last-Event-ID")).toBe("0");
    // before any event the stream's state carries id 0: delivered, though Last-Event-ID was 0
    await step(() => stream.send("sync-progress", progressData(0, 2), 0));
    expect(result.current.progress).toMatchObject({ status: "processing", progressPercentage: 0 });
    // the names from the start answer are there at once, waiting
    expect(result.current.progress?.characters.map((c) => [c.name, c.status])).toEqual([
      ["Alpha", "pending"],
      ["Ghost", "pending"],
    ]);

    await step(() =>
      stream.send("sync-progress", progressData(0, 2, { ...ALPHA, status: "processing" }), 3),
    );
    expect(result.current.progress?.currentCharacter).toEqual({ ...ALPHA, status: "processing" });
    await step(() =>
      stream.send("sync-progress", progressData(1, 2, { ...ALPHA, status: "completed" }), 4),
    );
    await step(() =>
      stream.send("sync-progress", progressData(2, 2, { ...GHOST, status: "failed" }, 1), 5),
    );
    expect(result.current.progress?.progressPercentage).toBe(100);
    expect(result.current.isComplete).toBe(false);
    await step(() => stream.send("sync-complete", completeData(2, 1), 6));

    expect(result.current).toMatchObject({
      isComplete: true,
      isSyncing: false,
      isConnected: false,
      error: null,
    });
    expect(result.current.progress).toMatchObject({
      status: "completed",
      progressPercentage: 100,
      processedCharacters: 2,
      failedCharacters: 1,
    });
    expect(result.current.progress?.characters.map((c) => [c.name, c.status])).toEqual([
      ["Alpha", "completed"],
      ["Ghost", "failed"],
    ]);
  });

  it("a late join starts from the current state", async () => {
    const stream = new EventStream();
    const api = new FakeApi().streams(SID, stream);
    const { result } = setup(api);
    await step(() => result.current.joinSession(SID));
    await step(() =>
      stream.send("sync-progress", progressData(3, 4, { ...GHOST, status: "completed" }), 41),
    );
    expect(result.current.progress).toMatchObject({
      processedCharacters: 3,
      progressPercentage: 75,
    });
    expect(result.current.progress?.currentCharacter?.name).toBe("Ghost");
    expect(result.current.isSyncing).toBe(true);
    expect(api.requestsTo(EVENTS)[0]?.headers.get("Last-Event-ID")).toBeNull();
  });

  it("joining a session that already ended shows its end", async () => {
    const stream = new EventStream();
    const { result } = setup(new FakeApi().streams(SID, stream));
    await step(() => result.current.joinSession(SID));
    await step(() => stream.send("sync-complete", completeData(5, 2), 77));
    expect(result.current).toMatchObject({ isComplete: true, isSyncing: false });
    expect(result.current.progress).toMatchObject({ progressPercentage: 100, failedCharacters: 2 });
  });

  it("a 409 sync_already_running joins that session", async () => {
    const stream = new EventStream();
    const api = new FakeApi()
      .on(
        "POST",
        "/api/v1/characters/sync",
        apiError(409, "sync_already_running", "already running", { sessionId: SID }),
      )
      .streams(SID, stream);
    const { result } = setup(api);
    let sessionId: string | null = null;
    await step(() => {
      void result.current.startSync("classic_sod").then((id) => (sessionId = id));
    });
    expect(sessionId).toBe(SID);
    expect(api.requestsTo(EVENTS)).toHaveLength(1);
    await step(() => stream.send("sync-progress", progressData(1, 2), 9));
    expect(result.current).toMatchObject({ error: null, isSyncing: true });
    expect(result.current.progress?.sessionId).toBe(SID);
  });

  it("a 409 relogin_required is an error that asks for a new login", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      apiError(409, "relogin_required", "log in again"),
    );
    const { result } = setup(api);
    await step(() => void result.current.startSync());
    expect(result.current.error?.needsLogin).toBe(true);
    expect(result.current).toMatchObject({ isSyncing: false, progress: null });
    expect(api.requests).toHaveLength(1);
  });

  it("sync-error ends the session with its reason", async () => {
    const stream = new EventStream();
    const api = new FakeApi().on("POST", "/api/v1/characters/sync", started()).streams(SID, stream);
    const { result } = setup(api);
    await step(() => void result.current.startSync());
    await step(() => stream.send("sync-progress", progressData(1, 2), 1));
    await step(() =>
      stream.send("sync-error", { sessionId: SID, error: "no progress for 30 minutes" }, 2),
    );
    expect(result.current).toMatchObject({
      isSyncing: false,
      isComplete: false,
      isConnected: false,
    });
    expect(result.current.progress?.status).toBe("failed");
    expect(result.current.error).toMatchObject({
      code: "sync_failed",
      message: "no progress for 30 minutes",
    });
  });

  it("a dropped stream is resumed without losing or repeating an event", async () => {
    const first = new EventStream();
    const second = new EventStream();
    const api = new FakeApi()
      .on("POST", "/api/v1/characters/sync", started())
      .streams(SID, first, second);
    const { result } = setup(api);
    await step(() => void result.current.startSync());
    await step(() =>
      first
        .send("sync-progress", progressData(0, 2), 0)
        .send("sync-progress", progressData(1, 2, { ...ALPHA, status: "completed" }), 5),
    );
    await step(() => first.drop());
    await waitFor(() => expect(api.requestsTo(EVENTS)).toHaveLength(2), { timeout: 3000 });
    expect(api.requestsTo(EVENTS)[1]?.headers.get("Last-Event-ID")).toBe("5");
    expect(result.current.isSyncing).toBe(true);
    await step(() =>
      second
        .send("sync-progress", progressData(1, 2, { ...ALPHA, status: "completed" }), 5)
        .send("sync-progress", progressData(2, 2, { ...GHOST, status: "failed" }, 1), 6)
        .send("sync-complete", completeData(2, 1), 7),
    );
    expect(result.current.isComplete).toBe(true);
    expect(result.current.progress).toMatchObject({ processedCharacters: 2, failedCharacters: 1 });
    expect(result.current.progress?.characters.map((c) => [c.name, c.status])).toEqual([
      ["Alpha", "completed"],
      ["Ghost", "failed"],
    ]);
  });

  it("reset forgets everything and ignores the old stream", async () => {
    const stream = new EventStream();
    const api = new FakeApi().on("POST", "/api/v1/characters/sync", started()).streams(SID, stream);
    const { result } = setup(api);
    await step(() => void result.current.startSync());
    await step(() => stream.send("sync-progress", progressData(1, 2), 1));
    await step(() => result.current.reset());
    expect(result.current).toMatchObject({
      progress: null,
      error: null,
      isSyncing: false,
      isComplete: false,
      isConnected: false,
    });
    await step(() => stream.send("sync-complete", completeData(2), 2));
    expect(result.current.progress).toBeNull();
    expect(stream.cancelled).toBe(true);
  });

  it("joining another session leaves the first one", async () => {
    const one = new EventStream();
    const two = new EventStream();
    const api = new FakeApi().streams(SID, one).streams(OTHER, two);
    const { result } = setup(api);
    await step(() => result.current.joinSession(SID));
    await step(() => result.current.joinSession(OTHER));
    await step(() => one.send("sync-progress", progressData(1, 2), 1));
    expect(result.current.progress).toBeNull();
    await step(() => two.send("sync-progress", progressData(1, 4, null, 0, OTHER), 3));
    expect(result.current.progress).toMatchObject({ sessionId: OTHER, progressPercentage: 25 });
  });

  it("without options: the page's origin and the session the login kept", async () => {
    const api = new FakeApi().on(
      "POST",
      "/api/v1/characters/sync",
      apiError(409, "relogin_required", "log in again"),
    );
    const expiresAt = Date.now() / 1000 + 60;
    window.sessionStorage.setItem(
      "guild-sync.session",
      JSON.stringify({ accessToken: "kept.jwt", expiresAt, userId: "u" }),
    );
    vi.stubGlobal("fetch", api.fetch);
    try {
      const { result } = renderHook(() => useCharacterSync());
      await step(() => void result.current.startSync());
      expect(result.current.error?.needsLogin).toBe(true);
      expect(api.requests[0]?.url).toBe("/api/v1/characters/sync");
      expect(api.requests[0]?.headers.get("Authorization")).toBe("Bearer kept.jwt");
    } finally {
      vi.unstubAllGlobals();
      window.sessionStorage.clear();
    }
  });

  it("follows Supabase Realtime when a client is passed", async () => {
    const listeners = new Map<string, (message: { payload?: unknown }) => void>();
    let onStatus: ((status: string) => void) | undefined;
    const channel: RealtimeChannelLike = {
      on: (_t, filter, cb) => {
        listeners.set(filter.event, cb);
        return channel;
      },
      subscribe: (cb) => {
        onStatus = cb;
        return channel;
      },
    };
    const topics: string[] = [];
    const realtime: RealtimeSource = {
      channel: (name) => {
        topics.push(name);
        return channel;
      },
      removeChannel: () => Promise.resolve("ok"),
    };
    const api = new FakeApi()
      .on("POST", "/api/v1/characters/sync", started())
      .on("GET", `/api/v1/characters/sync/${SID}`, json(200, progressData(0, 2)));
    const { result } = setup(api, realtime);
    await step(() => void result.current.startSync());
    expect(topics).toEqual([`sync:${SID}`]);
    await step(() => onStatus?.("SUBSCRIBED"));
    expect(result.current.isConnected).toBe(true);
    expect(result.current.progress?.progressPercentage).toBe(0);
    await step(() =>
      listeners.get("sync-progress")?.({
        payload: progressData(1, 2, { ...ALPHA, status: "completed" }),
      }),
    );
    await step(() => listeners.get("sync-complete")?.({ payload: completeData(2) }));
    expect(result.current).toMatchObject({ isComplete: true, isSyncing: false });
    expect(api.requestsTo(EVENTS)).toHaveLength(0);
  });
});
