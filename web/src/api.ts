// A framework-free client of Guild Sync's HTTP API: start a sync, enrich one character, list
// the user's characters, read a session's state, follow its events (see events.ts). The
// session JWT travels in the Authorization header only, never in a URL.

import { ApiError, asApiError } from "./errors";
import { followSse, type FollowOptions, type SessionHandlers, type Subscription } from "./events";
import type {
  CharacterHistory,
  Guild,
  Snapshot,
  SnapshotKind,
  SnapshotList,
  SyncPreferences,
} from "./model";
import {
  stateToEvent,
  type Character,
  type EnrichQueued,
  type GameVersion,
  type SyncEvent,
  type SyncStarted,
} from "./types";

export { ApiError, ErrorCodes, asApiError, parseRetryAfter } from "./errors";

export const DEFAULT_TIMEOUT_MS = 15_000;

export interface GuildSyncClientOptions {
  /** Where Guild Sync's gateway is; "" (the default) is the page's own origin. */
  baseUrl?: string;
  /** The user's session JWT (from the login fragment), read at each request. */
  getToken: () => string | null | undefined;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  /** Per request (streams have their own connect and idle timeouts). */
  timeoutMs?: number;
}

export class GuildSyncClient {
  readonly baseUrl: string;
  private readonly getToken: () => string | null | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: GuildSyncClientOptions) {
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    this.getToken = options.getToken;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** POST /api/v1/characters/sync. A 409 sync_already_running throws an ApiError whose
   * `isSyncAlreadyRunning` is true and `sessionId` names the session to join. */
  startSync(gameVersion: GameVersion): Promise<SyncStarted> {
    return this.request<SyncStarted>("POST", "/api/v1/characters/sync", { gameVersion });
  }

  /** POST /api/v1/characters/{id}/enrich: one character refreshed in a session of its own. */
  enrich(characterId: number): Promise<EnrichQueued> {
    return this.request<EnrichQueued>("POST", `/api/v1/characters/${characterId}/enrich`);
  }

  /** GET /api/v1/characters */
  async listCharacters(): Promise<Character[]> {
    const body = await this.request<{ characters: Character[] }>("GET", "/api/v1/characters");
    return body.characters;
  }

  /** GET /api/v1/characters/{id}/history: the character's changes, newest first. */
  history(characterId: number, limit = 500): Promise<CharacterHistory> {
    return this.request("GET", `/api/v1/characters/${characterId}/history?limit=${limit}`);
  }

  /** GET /api/v1/characters/{id}/snapshots?kind=...: newest first. */
  snapshots(characterId: number, kind: SnapshotKind): Promise<SnapshotList> {
    return this.request("GET", `/api/v1/characters/${characterId}/snapshots?kind=${kind}`);
  }

  /** GET /api/v1/characters/{id}/snapshots/{snapshotId}: one whole snapshot. */
  snapshot(characterId: number, snapshotId: number): Promise<Snapshot> {
    return this.request("GET", `/api/v1/characters/${characterId}/snapshots/${snapshotId}`);
  }

  /** GET /api/v1/guilds/{id}: the guild with its members across its connected realms. */
  guild(guildId: number): Promise<Guild> {
    return this.request("GET", `/api/v1/guilds/${guildId}`);
  }

  /** GET /api/v1/me/sync-preferences */
  syncPreferences(): Promise<SyncPreferences> {
    return this.request("GET", "/api/v1/me/sync-preferences");
  }

  /** PUT /api/v1/me/sync-preferences (either field may be left out). */
  saveSyncPreferences(
    change: Partial<Pick<SyncPreferences, "autoSync" | "gameVersions">>,
  ): Promise<SyncPreferences> {
    return this.request("PUT", "/api/v1/me/sync-preferences", change);
  }

  /** GET /api/v1/characters/sync/{sessionId}: the session's state as the event it stands for. */
  async getSyncState(sessionId: string): Promise<SyncEvent> {
    const path = `/api/v1/characters/sync/${encodeURIComponent(sessionId)}`;
    return stateToEvent(await this.request<Record<string, unknown>>("GET", path));
  }

  /** Follow a session's Server-Sent Events (current state first), reconnecting with
   * Last-Event-ID after a dropped connection. */
  followSession(
    sessionId: string,
    handlers: SessionHandlers,
    options: FollowOptions = {},
  ): Subscription {
    return followSse(
      (lastEventId, signal) => this.openEvents(sessionId, lastEventId, signal),
      handlers,
      options,
    );
  }

  /** The raw events request (one connection); followSession is what apps call. */
  openEvents(
    sessionId: string,
    lastEventId: string | null,
    signal: AbortSignal,
  ): Promise<Response> {
    const headers = this.headers();
    headers.set("Accept", "text/event-stream");
    headers.set("Cache-Control", "no-cache");
    if (lastEventId !== null) headers.set("Last-Event-ID", lastEventId);
    const url = `${this.baseUrl}/api/v1/characters/sync/${encodeURIComponent(sessionId)}/events`;
    return this.fetchImpl(url, { method: "GET", headers, signal, cache: "no-store" });
  }

  private headers(): Headers {
    const headers = new Headers({ Accept: "application/json" });
    const token = this.getToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return headers;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers = this.headers();
    if (body !== undefined) headers.set("Content-Type", "application/json");
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
      if (!response.ok) throw await ApiError.fromResponse(response);
      return (await response.json()) as T;
    } catch (error) {
      throw asApiError(error, controller.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }
}
