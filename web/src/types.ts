// The shapes of Guild Sync's HTTP contract (DESIGN.md section 5), camelCase as sent.

export const GAME_VERSIONS = [
  "retail",
  "classic_era",
  "classic_sod",
  "classic_anniversary",
  "classic_progression",
] as const;
export type GameVersion = (typeof GAME_VERSIONS)[number];

export type CharacterStatus = "processing" | "completed" | "failed";

export interface CharacterRef {
  id: number;
  name: string;
  realm: string;
}

export interface CurrentCharacter extends CharacterRef {
  status: CharacterStatus;
}

/** `sync-progress` */
export interface SyncProgressData {
  sessionId: string;
  status: "processing";
  totalCharacters: number;
  processedCharacters: number;
  failedCharacters: number;
  progressPercentage: number;
  currentCharacter: CurrentCharacter | null;
}

/** `sync-complete` */
export interface SyncCompleteData {
  sessionId: string;
  status: "completed";
  totalCharacters: number;
  processedCharacters: number;
  failedCharacters: number;
  progressPercentage: 100;
}

/** `sync-error` */
export interface SyncErrorData {
  sessionId: string;
  error: string | null;
}

export type SyncEvent =
  | { type: "sync-progress"; data: SyncProgressData }
  | { type: "sync-complete"; data: SyncCompleteData }
  | { type: "sync-error"; data: SyncErrorData };

export type SyncEventType = SyncEvent["type"];
export const SYNC_EVENT_TYPES: readonly SyncEventType[] = [
  "sync-progress",
  "sync-complete",
  "sync-error",
];

/** 202 of POST /api/v1/characters/sync */
export interface SyncStarted {
  message: string;
  sessionId: string;
  syncedCharacters: number;
  characters?: (CharacterRef & { realmSlug?: string; level?: number | null })[];
}

/** 202 of POST /api/v1/characters/{id}/enrich */
export interface EnrichQueued {
  message: string;
  sessionId: string;
  jobId: number;
  character: CharacterRef;
}

/** A row of GET /api/v1/characters */
export interface Character extends CharacterRef {
  realmSlug: string;
  region: string;
  flavor: string;
  level: number | null;
  class: string | null;
  race: string | null;
  faction: string | null;
  itemLevel: number | null;
  avatarUrl: string | null;
  guild: { id: number; name: string; realm: string; rank?: number | null } | null;
  isActive: boolean;
  enrichedAt: string | null;
  transferredTo?: number | null;
  transferredFrom?: number | null;
  connectedRealmId?: number | null;
}

export function isFinal(event: SyncEvent): boolean {
  return event.type === "sync-complete" || event.type === "sync-error";
}

/** The event a state answer (GET /api/v1/characters/sync/{id}) stands for. */
export function stateToEvent(data: Record<string, unknown>): SyncEvent {
  if (data.status === "completed") return { type: "sync-complete", data: data as never };
  if ("error" in data && data.status !== "processing") {
    return { type: "sync-error", data: data as never };
  }
  return { type: "sync-progress", data: data as never };
}
