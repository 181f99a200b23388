// The same session events from Supabase Realtime, for a hosted app that passes its supabase-js
// client: the database broadcasts each event (sync-progress, sync-complete, sync-error) to the
// private topic `sync:<sessionId>` (DESIGN.md section 9), so no long-lived function connection
// is needed. Typed structurally: the page does not bundle supabase-js; any object with these
// methods works (test/realtime-types.test.ts checks that a real SupabaseClient fits).
//
// Broadcast keeps no history, so on each (re)subscription the follower also reads the
// session's current state over HTTP: a late joiner starts from it, and a client whose socket
// dropped catches up. Applying events is monotonic (see progress.ts), so a state read that
// arrives after a newer broadcast changes nothing.

import { ApiError, ErrorCodes, asApiError } from "./errors";
import type { SessionHandlers, Subscription } from "./events";
import { SYNC_EVENT_TYPES, isFinal, type SyncEvent } from "./types";

export interface RealtimeChannelLike {
  on(
    type: "broadcast",
    filter: { event: string },
    callback: (message: { payload?: unknown }) => void,
  ): RealtimeChannelLike;
  subscribe(callback?: (status: string, err?: Error) => void): RealtimeChannelLike;
}

/** What the follower needs of a supabase-js client (`createClient(...)`). */
export interface RealtimeSource {
  channel(name: string, opts?: { config?: { private?: boolean } }): RealtimeChannelLike;
  removeChannel(channel: RealtimeChannelLike): unknown;
  realtime?: { setAuth(token?: string | null): unknown };
}

export interface RealtimeFollowOptions {
  /** The user's JWT, for the private channel's authorization (realtime.setAuth). */
  token?: string | null;
  /** The session's current state (GuildSyncClient.getSyncState). */
  currentState: () => Promise<SyncEvent>;
}

export function topicFor(sessionId: string): string {
  return `sync:${sessionId}`;
}

export function followRealtime(
  source: RealtimeSource,
  sessionId: string,
  handlers: SessionHandlers,
  options: RealtimeFollowOptions,
): Subscription {
  let closed = false;
  if (options.token)
    void Promise.resolve(source.realtime?.setAuth(options.token)).catch(() => undefined);
  const channel = source.channel(topicFor(sessionId), { config: { private: true } });

  const close = (): void => {
    if (closed) return;
    closed = true;
    handlers.onConnectionChange?.(false);
    void Promise.resolve(source.removeChannel(channel)).catch(() => undefined);
  };
  const deliver = (event: SyncEvent): void => {
    if (closed) return;
    handlers.onEvent(event);
    if (isFinal(event)) close();
  };
  const fail = (error: ApiError): void => {
    if (closed) return;
    close();
    handlers.onError?.(error);
  };

  for (const type of SYNC_EVENT_TYPES) {
    channel.on("broadcast", { event: type }, (message) => {
      if (message.payload && typeof message.payload === "object") {
        deliver({ type, data: message.payload } as SyncEvent);
      }
    });
  }
  channel.subscribe((status, err) => {
    if (closed) return;
    if (status === "SUBSCRIBED") {
      handlers.onConnectionChange?.(true);
      options.currentState().then(deliver, (error: unknown) => fail(asApiError(error)));
    } else if (status === "CHANNEL_ERROR" || status === "TIMED_OUT") {
      const reason = err?.message ? `: ${err.message}` : "";
      fail(new ApiError(0, ErrorCodes.streamLost, `the live channel could not be joined${reason}`));
    } else if (status === "CLOSED") {
      handlers.onConnectionChange?.(false);
    }
  });
  return {
    close,
    get closed() {
      return closed;
    },
  };
}
