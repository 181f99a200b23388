// Auto-sync preferences: off, on login or daily, the game versions, and the next planned sync.

import { useState, type FormEvent } from "react";

import { asApiError, type ApiError } from "../api";
import type { AutoSync, SyncPreferences } from "../model";
import { GAME_VERSIONS, type GameVersion } from "../types";
import { BackLink, ErrorBox, Loading, formatDate, useLoad, type ViewProps } from "./common";

const AUTO_SYNC: { value: AutoSync; label: string; hint: string }[] = [
  { value: "off", label: "Off", hint: "Sync only when you press Sync characters." },
  { value: "on_login", label: "On login", hint: "Sync when you log in." },
  { value: "daily", label: "Daily", hint: "Sync when you log in and about once a day." },
];

export const VERSION_NAMES: Record<GameVersion, string> = {
  retail: "Retail",
  classic_era: "Classic Era",
  classic_sod: "Season of Discovery",
  classic_anniversary: "Classic Anniversary",
  classic_progression: "Classic (progression)",
};

/** The next planned sync in words. */
export function nextSyncText(p: SyncPreferences): string {
  if (p.nextSyncAt) return `Next planned sync: ${formatDate(p.nextSyncAt, true)}.`;
  switch (p.reason) {
    case "auto_sync_off":
      return "No sync is planned: auto-sync is off.";
    case "on_login":
      return "The next sync runs when you log in.";
    case "login_required":
      return "No sync is planned: log in again so Battle.net lets Guild Sync read your account.";
    case "login_expires_first":
      return "No daily sync is planned before your Battle.net login expires: log in again tomorrow.";
    default:
      return "No sync is planned.";
  }
}

export function PreferencesPage({ client, onLogin }: ViewProps) {
  const loaded = useLoad(() => client.syncPreferences(), "preferences");
  return (
    <div className="view" data-testid="preferences-page">
      <BackLink />
      <h2>Sync preferences</h2>
      {loaded.state === "loading" && <Loading what="your preferences" />}
      {loaded.state === "error" && <ErrorBox error={loaded.error} onLogin={onLogin} />}
      {loaded.state === "done" && (
        <PreferencesForm
          initial={loaded.value}
          onLogin={onLogin}
          save={(change) => client.saveSyncPreferences(change)}
        />
      )}
    </div>
  );
}

interface FormProps {
  initial: SyncPreferences;
  onLogin: () => void;
  save: (change: Pick<SyncPreferences, "autoSync" | "gameVersions">) => Promise<SyncPreferences>;
}

export function PreferencesForm({ initial, onLogin, save }: FormProps) {
  const [saved, setSaved] = useState(initial);
  const [autoSync, setAutoSync] = useState<AutoSync>(initial.autoSync);
  const [versions, setVersions] = useState<GameVersion[]>(initial.gameVersions);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState("");
  const choose = (value: AutoSync) => {
    setStatus("");
    setAutoSync(value);
  };
  const toggle = (v: GameVersion) => {
    setStatus("");
    setVersions((old) => (old.includes(v) ? old.filter((x) => x !== v) : [...old, v]));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const answer = await save({ autoSync, gameVersions: versions });
      setSaved(answer);
      setAutoSync(answer.autoSync);
      setVersions(answer.gameVersions);
      setStatus("Saved.");
    } catch (caught) {
      setError(asApiError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card preferences" onSubmit={submit} data-testid="preferences-form">
      <fieldset>
        <legend>Auto-sync</legend>
        {AUTO_SYNC.map((o) => (
          <label key={o.value} className="choice">
            <input
              type="radio"
              name="auto-sync"
              value={o.value}
              checked={autoSync === o.value}
              data-testid={`pref-auto-sync-${o.value}`}
              onChange={() => choose(o.value)}
            />
            <span>
              {o.label} <span className="muted">— {o.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Game versions</legend>
        <p className="muted">The first one checked is synced at login.</p>
        {GAME_VERSIONS.map((v) => (
          <label key={v} className="choice">
            <input
              type="checkbox"
              checked={versions.includes(v)}
              data-testid={`pref-version-${v}`}
              onChange={() => toggle(v)}
            />
            {VERSION_NAMES[v]}
          </label>
        ))}
      </fieldset>
      <p data-testid="pref-next-sync">{nextSyncText(saved)}</p>
      {error && <ErrorBox error={error} onLogin={onLogin} />}
      <div className="controls">
        <button
          type="submit"
          className="primary"
          data-testid="pref-save"
          disabled={busy || versions.length === 0}
        >
          {busy ? "Saving…" : "Save"}
        </button>
        {versions.length === 0 && <span className="muted">Choose at least one game version.</span>}
        <span role="status" data-testid="pref-status">
          {status}
        </span>
      </div>
    </form>
  );
}
