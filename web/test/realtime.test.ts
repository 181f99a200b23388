// @vitest-environment node
import { describe, expect, it } from "vitest";

import { ApiError } from "../src/api";
import type { SessionHandlers } from "../src/events";
import { followRealtime, type RealtimeChannelLike, type RealtimeSource } from "../src/realtime";
import type { SyncEvent } from "../src/types";
import { ALPHA, SID, completeData, flush, progressData } from "./fakes";

/** A supabase-js-shaped client whose one channel the test drives. */
class FakeRealtime implements RealtimeSource {
  name = "";
  opts: unknown;
  auth: (string | null | undefined)[] = [];
  removed = 0;
  listeners = new Map<string, (message: { payload?: unknown }) => void>();
  status: ((status: string, err?: Error) => void) | undefined;
  realtime = { setAuth: (token?: string | null) => void this.auth.push(token) };

  channel(name: string, opts?: { config?: { private?: boolean } }): RealtimeChannelLike {
    this.name = name;
    this.opts = opts;
    const channel: RealtimeChannelLike = {
      on: (_type, filter, callback) => {
        this.listeners.set(filter.event, callback);
        return channel;
      },
      subscribe: (callback) => {
        this.status = callback;
        return channel;
      },
    };
    return channel;
  }

  removeChannel(): Promise<string> {
    this.removed += 1;
    return Promise.resolve("ok");
  }

  broadcast(event: string, payload: unknown): void {
    this.listeners.get(event)?.({ payload });
  }
}

function handlers(): SessionHandlers & {
  events: SyncEvent[];
  connections: boolean[];
  errors: ApiError[];
} {
  const out = {
    events: [] as SyncEvent[],
    connections: [] as boolean[],
    errors: [] as ApiError[],
    onEvent: (e: SyncEvent) => void out.events.push(e),
    onConnectionChange: (c: boolean) => void out.connections.push(c),
    onError: (e: ApiError) => void out.errors.push(e),
  };
  return out;
}

describe("followRealtime", () => {
  it("joins the private topic sync:<id>, starts from the current state, relays broadcasts", async () => {
    const rt = new FakeRealtime();
    const h = handlers();
    const state: SyncEvent = { type: "sync-progress", data: progressData(1, 2) };
    const sub = followRealtime(rt, SID, h, { token: "jwt", currentState: async () => state });
    expect(rt.name).toBe(`sync:${SID}`);
    expect(rt.opts).toEqual({ config: { private: true } });
    expect(rt.auth).toEqual(["jwt"]);
    expect([...rt.listeners.keys()].sort()).toEqual([
      "sync-complete",
      "sync-error",
      "sync-progress",
    ]);
    rt.status?.("SUBSCRIBED");
    await flush();
    rt.broadcast("sync-progress", progressData(2, 2, { ...ALPHA, status: "completed" }));
    rt.broadcast("sync-complete", completeData(2));
    expect(h.connections).toEqual([true, false]);
    expect(h.events.map((e) => e.type)).toEqual([
      "sync-progress",
      "sync-progress",
      "sync-complete",
    ]);
    expect(sub.closed).toBe(true);
    await flush();
    expect(rt.removed).toBe(1);
    rt.broadcast("sync-progress", progressData(2, 2));
    expect(h.events).toHaveLength(3);
  });

  it("a late joiner of an ended session gets its end from the state", async () => {
    const rt = new FakeRealtime();
    const h = handlers();
    followRealtime(rt, SID, h, {
      currentState: async () => ({ type: "sync-complete", data: completeData(3) }),
    });
    rt.status?.("SUBSCRIBED");
    await flush();
    expect(h.events.map((e) => e.type)).toEqual(["sync-complete"]);
    expect(rt.removed).toBe(1);
  });

  it("a channel that cannot be joined is an error", () => {
    const rt = new FakeRealtime();
    const h = handlers();
    followRealtime(rt, SID, h, {
      currentState: async () => ({ type: "sync-complete", data: completeData(1) }),
    });
    rt.status?.("CHANNEL_ERROR", new Error("unauthorized"));
    expect(h.errors.map((e) => [e.code, e.message])).toEqual([
      ["stream_lost", "the live channel could not be joined: unauthorized"],
    ]);
    expect(rt.removed).toBe(1);
  });
});
