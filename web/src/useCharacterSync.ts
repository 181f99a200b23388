// useCharacterSync(): the seed's hook, with its surface and meaning:
//   progress     the session's progress (null before the first event)
//   error        what went wrong (an ApiError: status, code, message), or null
//   isConnected  the live connection (event stream or Realtime channel) is open
//   isSyncing    a sync is being started or followed and has not ended
//   isComplete   the session ended with sync-complete
//   startSync(gameVersion)  start a sync; a 409 "already running" joins that session instead
//   joinSession(sessionId)  follow a session (late: it starts from the current state)
//   reset()      stop following and forget everything
// Events come from the SSE endpoint, or from Supabase Realtime when `realtime` (a supabase-js
// client) is given. Without options it talks to the page's own origin with the session the
// page's login kept (session.ts).

import { useCallback, useEffect, useMemo, useReducer, useRef } from "react";

import { ApiError, asApiError, ErrorCodes, GuildSyncClient } from "./api";
import type { Subscription } from "./events";
import { applyEvent, initialProgress, type SyncProgress } from "./progress";
import { followRealtime, type RealtimeSource } from "./realtime";
import { storedToken } from "./session";
import type { CharacterRef, GameVersion, SyncEvent } from "./types";

export interface UseCharacterSyncOptions {
  /** Defaults to the page's origin, with the token session.ts keeps. */
  client?: GuildSyncClient;
  /** A supabase-js client: follow sessions on Realtime instead of the event stream. */
  realtime?: RealtimeSource | null;
  /** The user's JWT for Realtime's private channels (defaults to none). */
  realtimeToken?: string | null;
}

export interface CharacterSync {
  progress: SyncProgress | null;
  error: ApiError | null;
  isConnected: boolean;
  isSyncing: boolean;
  isComplete: boolean;
  startSync: (gameVersion?: GameVersion) => Promise<string | null>;
  joinSession: (sessionId: string, characters?: CharacterRef[]) => void;
  reset: () => void;
}

interface State {
  sessionId: string | null;
  seed: CharacterRef[];
  progress: SyncProgress | null;
  error: ApiError | null;
  isConnected: boolean;
  starting: boolean;
  following: boolean;
}

type Action =
  | { type: "starting" }
  | { type: "join"; sessionId: string; seed: CharacterRef[] }
  | { type: "event"; event: SyncEvent }
  | { type: "connected"; value: boolean }
  | { type: "failed"; error: ApiError }
  | { type: "reset" };

const INITIAL: State = {
  sessionId: null,
  seed: [],
  progress: null,
  error: null,
  isConnected: false,
  starting: false,
  following: false,
};

function reducer(state: State, action: Action): State {
  switch (action.type) {
    case "starting":
      return { ...INITIAL, starting: true };
    case "join":
      return { ...INITIAL, sessionId: action.sessionId, seed: action.seed, following: true };
    case "event": {
      if (state.sessionId === null || action.event.data.sessionId !== state.sessionId) return state;
      const before = state.progress ?? initialProgress(state.sessionId, state.seed);
      const progress = applyEvent(before, action.event);
      const ended = progress.status !== "processing";
      const error =
        progress.status === "failed"
          ? new ApiError(0, ErrorCodes.syncFailed, progress.error ?? "the sync failed", {
              sessionId: state.sessionId,
            })
          : state.error;
      return {
        ...state,
        progress,
        error,
        following: state.following && !ended,
        isConnected: ended ? false : state.isConnected,
      };
    }
    case "connected":
      return { ...state, isConnected: state.following && action.value };
    case "failed":
      return {
        ...state,
        error: action.error,
        starting: false,
        following: false,
        isConnected: false,
      };
    case "reset":
      return INITIAL;
  }
}

let sameOriginClient: GuildSyncClient | null = null;

function defaultClient(): GuildSyncClient {
  sameOriginClient ??= new GuildSyncClient({ getToken: () => storedToken() });
  return sameOriginClient;
}

export function useCharacterSync(options: UseCharacterSyncOptions = {}): CharacterSync {
  const { realtime, realtimeToken } = options;
  const client = options.client ?? defaultClient();
  const [state, dispatch] = useReducer(reducer, INITIAL);
  const subscription = useRef<Subscription | null>(null);
  const generation = useRef(0); // callbacks of an older start/join are ignored

  const stopFollowing = useCallback(() => {
    subscription.current?.close();
    subscription.current = null;
  }, []);

  // `fromStart`: a session this page just started is followed from its first event
  // (Last-Event-ID 0), so its per-character results arrive even when it ended before the stream
  // opened; a session joined late starts from its current state.
  const follow = useCallback(
    (sessionId: string, characters: CharacterRef[], fromStart: boolean) => {
      stopFollowing();
      const mine = ++generation.current;
      const live = (): boolean => generation.current === mine;
      dispatch({ type: "join", sessionId, seed: characters });
      const handlers = {
        onEvent: (event: SyncEvent) => live() && dispatch({ type: "event", event }),
        onConnectionChange: (value: boolean) => live() && dispatch({ type: "connected", value }),
        onError: (error: ApiError) => live() && dispatch({ type: "failed", error }),
      };
      subscription.current = realtime
        ? followRealtime(realtime, sessionId, handlers, {
            token: realtimeToken ?? null,
            currentState: () => client.getSyncState(sessionId),
          })
        : client.followSession(sessionId, handlers, fromStart ? { lastEventId: "0" } : {});
    },
    [client, realtime, realtimeToken, stopFollowing],
  );

  const joinSession = useCallback(
    (sessionId: string, characters: CharacterRef[] = []) => follow(sessionId, characters, false),
    [follow],
  );

  const startSync = useCallback(
    async (gameVersion: GameVersion = "retail"): Promise<string | null> => {
      stopFollowing();
      const mine = ++generation.current;
      dispatch({ type: "starting" });
      try {
        const started = await client.startSync(gameVersion);
        if (generation.current !== mine) return null;
        follow(started.sessionId, started.characters ?? [], true);
        return started.sessionId;
      } catch (caught) {
        if (generation.current !== mine) return null;
        const error = asApiError(caught);
        if (error.isSyncAlreadyRunning && error.sessionId) {
          joinSession(error.sessionId);
          return error.sessionId;
        }
        dispatch({ type: "failed", error });
        return null;
      }
    },
    [client, follow, joinSession, stopFollowing],
  );

  const reset = useCallback(() => {
    generation.current += 1;
    stopFollowing();
    dispatch({ type: "reset" });
  }, [stopFollowing]);

  useEffect(() => stopFollowing, [stopFollowing]);

  const isComplete = state.progress?.status === "completed";
  return useMemo(
    () => ({
      progress: state.progress,
      error: state.error,
      isConnected: state.isConnected,
      isSyncing: state.starting || state.following,
      isComplete,
      startSync,
      joinSession,
      reset,
    }),
    [state, isComplete, startSync, joinSession, reset],
  );
}
