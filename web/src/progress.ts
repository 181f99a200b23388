// A session's progress as the UI shows it, built from its events by a pure function: the
// counters of the latest event, the character being processed, and every character seen so
// far with its status (names update live). Monotonic: an event that reports fewer processed
// characters than already shown (a state read racing a newer broadcast) changes nothing, and
// nothing follows a final state.

import type { CharacterRef, CharacterStatus, CurrentCharacter, SyncEvent } from "./types";

export type SessionStatus = "processing" | "completed" | "failed";

export interface CharacterProgress extends CharacterRef {
  status: CharacterStatus | "pending";
}

export interface SyncProgress {
  sessionId: string;
  status: SessionStatus;
  totalCharacters: number;
  processedCharacters: number;
  failedCharacters: number;
  progressPercentage: number;
  currentCharacter: CurrentCharacter | null;
  /** every character of the session seen so far, in order of appearance */
  characters: CharacterProgress[];
  /** why the session failed (sync-error) */
  error: string | null;
}

export function initialProgress(sessionId: string, seed: CharacterRef[] = []): SyncProgress {
  return {
    sessionId,
    status: "processing",
    totalCharacters: seed.length,
    processedCharacters: 0,
    failedCharacters: 0,
    progressPercentage: 0,
    currentCharacter: null,
    characters: seed.map(({ id, name, realm }) => ({ id, name, realm, status: "pending" })),
    error: null,
  };
}

function withCharacter(list: CharacterProgress[], current: CurrentCharacter): CharacterProgress[] {
  const entry: CharacterProgress = {
    id: current.id,
    name: current.name,
    realm: current.realm,
    status: current.status,
  };
  const index = list.findIndex((c) => c.id === current.id);
  if (index < 0) return [...list, entry];
  const previous = list[index];
  // a final status of a character never goes back to processing (a redelivered message)
  if (previous && previous.status !== "pending" && previous.status !== "processing") {
    if (current.status === "processing") return list;
  }
  return list.map((c, i) => (i === index ? entry : c));
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, Math.round(value)));
}

export function applyEvent(progress: SyncProgress, event: SyncEvent): SyncProgress {
  if (event.data.sessionId !== progress.sessionId) return progress;
  if (progress.status !== "processing") return progress;
  switch (event.type) {
    case "sync-progress": {
      const data = event.data;
      if (data.processedCharacters < progress.processedCharacters) return progress;
      return {
        ...progress,
        totalCharacters: data.totalCharacters,
        processedCharacters: data.processedCharacters,
        failedCharacters: data.failedCharacters,
        progressPercentage: clampPercent(data.progressPercentage),
        currentCharacter: data.currentCharacter ?? progress.currentCharacter,
        characters: data.currentCharacter
          ? withCharacter(progress.characters, data.currentCharacter)
          : progress.characters,
      };
    }
    case "sync-complete":
      return {
        ...progress,
        status: "completed",
        totalCharacters: event.data.totalCharacters,
        processedCharacters: event.data.processedCharacters,
        failedCharacters: event.data.failedCharacters,
        progressPercentage: 100,
        currentCharacter: null,
      };
    case "sync-error":
      return {
        ...progress,
        status: "failed",
        currentCharacter: null,
        error: event.data.error ?? "the sync failed",
      };
  }
}
