// CharacterSyncProgress: the overall progress bar, the character being processed, and every
// character of the session with an animated status icon (processing / completed / failed),
// names updating live. Accessible: a progressbar with its value, and a polite live region
// that announces status changes (not every character: the bar carries the count).

import type { CharacterProgress, SyncProgress } from "./progress";

export interface CharacterSyncProgressProps {
  progress: SyncProgress;
  isConnected?: boolean;
}

const STATUS_WORDS: Record<CharacterProgress["status"], string> = {
  pending: "waiting",
  processing: "processing",
  completed: "completed",
  failed: "failed",
};

function StatusIcon({ status }: { status: CharacterProgress["status"] }) {
  const glyph = { pending: "•", processing: "", completed: "✓", failed: "✕" }[status];
  return (
    <span
      className={`status-icon status-icon--${status}`}
      role="img"
      aria-label={STATUS_WORDS[status]}
    >
      {glyph}
    </span>
  );
}

function announcement(progress: SyncProgress): string {
  const { status, processedCharacters, totalCharacters, failedCharacters } = progress;
  const failed = failedCharacters ? `, ${failedCharacters} failed` : "";
  if (status === "completed")
    return `Sync complete: ${processedCharacters} of ${totalCharacters} characters${failed}.`;
  if (status === "failed") return `Sync failed: ${progress.error ?? "unknown error"}.`;
  return "Syncing characters…";
}

export function CharacterSyncProgress({ progress, isConnected }: CharacterSyncProgressProps) {
  const percent = progress.progressPercentage;
  const current = progress.currentCharacter;
  return (
    <section
      className={`sync-progress sync-progress--${progress.status}`}
      aria-label="Character sync"
    >
      <div className="sync-progress__header">
        <span>
          Status: <strong data-testid="sync-status">{progress.status}</strong>
        </span>
        <span className="sync-progress__count">
          {progress.processedCharacters} / {progress.totalCharacters}
          {progress.failedCharacters > 0 && ` (${progress.failedCharacters} failed)`}
        </span>
        {isConnected !== undefined && (
          <span
            className={`live-dot ${isConnected ? "live-dot--on" : ""}`}
            title={isConnected ? "live" : "not connected"}
          >
            {isConnected ? "live" : ""}
          </span>
        )}
      </div>
      <div
        className="progressbar"
        role="progressbar"
        data-testid="sync-progress"
        aria-label="Characters synced"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-valuetext={`${percent}%`}
      >
        <div className="progressbar__fill" style={{ width: `${percent}%` }} />
        <span className="progressbar__label">{percent}%</span>
      </div>
      <p className="sync-progress__current" data-testid="current-character">
        {current ? (
          <>
            <StatusIcon status={current.status} /> {current.name}
            <span className="muted"> ({current.realm})</span>
          </>
        ) : progress.status === "processing" ? (
          <span className="muted">Waiting for the first character…</span>
        ) : null}
      </p>
      <p className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement(progress)}
      </p>
      {progress.characters.length > 0 && (
        <ul className="sync-characters" aria-label="Characters in this sync">
          {progress.characters.map((c) => (
            <li
              key={c.id}
              data-testid="sync-character"
              data-status={c.status}
              className={`sync-character sync-character--${c.status}`}
            >
              <StatusIcon status={c.status} />
              <span className="sync-character__name">{c.name}</span>
              <span className="muted"> {c.realm}</span>
              <span className="sync-character__status">{STATUS_WORDS[c.status]}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
