// The page: log in with Battle.net, pick a game version, sync, watch the progress live, then
// see the characters (avatar, level, class, realm, guild); "refresh" re-enriches one.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { GuildSyncClient, asApiError, type ApiError } from "./api";
import { CharacterSyncProgress } from "./CharacterSyncProgress";
import { describeError } from "./messages";
import { RoutedPage } from "./pages/Routed";
import { href, useRoute } from "./route";
import type { SyncProgress } from "./progress";
import { clearSession, loadSession, loginUrl, newLoginNonce, type UserSession } from "./session";
import { GAME_VERSIONS, type Character, type GameVersion } from "./types";
import { useCharacterSync } from "./useCharacterSync";

const LIST_REFRESH_MS = 1000;
export const MARK_CLICK = "guild-sync:sync-click";
export const MARK_FIRST_PROGRESS = "guild-sync:first-progress";
export const MEASURE_FIRST_PROGRESS = "guild-sync:click-to-first-progress";

const VERSION_LABELS: Record<GameVersion, string> = {
  retail: "Retail",
  classic_era: "Classic Era",
  classic_sod: "Season of Discovery",
  classic_anniversary: "Classic Anniversary",
  classic_progression: "Classic (progression)",
};
const FLAVOR_LABELS: Record<string, string> = {
  "": "Retail",
  classic1x: "Classic Era",
  classicann: "Anniversary",
  classic: "Classic",
};

export interface AppProps {
  /** Guild Sync's gateway; "" is the page's own origin. */
  apiBase?: string;
  /** Injected in tests. */
  fetch?: typeof fetch;
  navigate?: (url: string) => void;
}

function mark(name: string): void {
  try {
    performance.mark(name);
  } catch {
    // User Timing is a nicety: never let it break the page
  }
}

export function App({
  apiBase = (import.meta.env.VITE_GUILD_SYNC_URL ?? "").replace(/\/+$/, ""),
  fetch: fetchImpl,
  navigate = (url) => window.location.assign(url),
}: AppProps) {
  const [session, setSession] = useState<UserSession | null>(() => loadSession());
  const token = useRef<string | null>(session?.accessToken ?? null);
  token.current = session?.accessToken ?? null;
  const client = useMemo(
    () =>
      new GuildSyncClient({ baseUrl: apiBase, getToken: () => token.current, fetch: fetchImpl }),
    [apiBase, fetchImpl],
  );
  const sync = useCharacterSync({ client });
  const [version, setVersion] = useState<GameVersion>("retail");
  const [characters, setCharacters] = useState<Character[] | null>(null);
  const [pageError, setPageError] = useState<ApiError | null>(null);
  const waitingForFirstEvent = useRef(false);
  const route = useRoute();

  const login = useCallback(
    () => navigate(loginUrl(apiBase, window.location.href, newLoginNonce())),
    [apiBase, navigate],
  );
  const logout = useCallback(() => {
    clearSession();
    sync.reset();
    setSession(null);
    setCharacters(null);
    setPageError(null);
  }, [sync]);

  const loadCharacters = useCallback(async () => {
    try {
      setCharacters(await client.listCharacters());
    } catch (caught) {
      setPageError(asApiError(caught));
    }
  }, [client]);

  useEffect(() => {
    if (session) void loadCharacters();
  }, [session, loadCharacters]);

  // a fragment that arrives while the page is open (a link to this page followed in this tab)
  // is read the same way: taken only with this tab's nonce, cleared in any case
  useEffect(() => {
    const onHashChange = () => {
      const next = loadSession();
      setSession((current) => (next?.accessToken === current?.accessToken ? current : next));
    };
    window.addEventListener("hashchange", onHashChange);
    return () => window.removeEventListener("hashchange", onHashChange);
  }, []);

  // the list changes while a sync runs: characters are stored when it starts, and each one
  // gets its guild, level and avatar when it is done: read it again at the start, at most
  // once a second while characters finish, and at the end
  const followed = sync.progress?.sessionId ?? null;
  const processed = sync.progress?.processedCharacters ?? 0;
  const ended = sync.progress !== null && sync.progress.status !== "processing";
  const lastLoad = useRef(0);
  useEffect(() => {
    if (!session || !followed) return;
    const wait = ended ? 0 : Math.max(0, lastLoad.current + LIST_REFRESH_MS - Date.now());
    const timer = setTimeout(() => {
      lastLoad.current = Date.now();
      void loadCharacters();
    }, wait);
    return () => clearTimeout(timer);
  }, [session, followed, processed, ended, loadCharacters]);

  // time from the click to the first progress shown (User Timing, read by the browser test)
  useEffect(() => {
    if (!waitingForFirstEvent.current || sync.progress === null) return;
    waitingForFirstEvent.current = false;
    mark(MARK_FIRST_PROGRESS);
    try {
      performance.measure(MEASURE_FIRST_PROGRESS, MARK_CLICK, MARK_FIRST_PROGRESS);
    } catch {
      // no click mark (cleared): nothing to measure
    }
  }, [sync.progress]);

  const startSync = useCallback(() => {
    setPageError(null);
    waitingForFirstEvent.current = true;
    mark(MARK_CLICK);
    void sync.startSync(version);
  }, [sync, version]);

  const refresh = useCallback(
    async (character: Character) => {
      setPageError(null);
      try {
        const queued = await client.enrich(character.id);
        sync.joinSession(queued.sessionId, [queued.character]);
      } catch (caught) {
        setPageError(asApiError(caught));
      }
    },
    [client, sync],
  );

  const error = sync.error ?? pageError;
  const advice = error ? describeError(error) : null;
  const statusById = useMemo(() => statusesOf(sync.progress), [sync.progress]);

  return (
    <main className="page">
      <header className="page__header">
        <h1>Guild Sync</h1>
        {session ? (
          <nav className="page__nav" aria-label="Account">
            <a href={href.preferences} data-testid="preferences-link">
              Preferences
            </a>
            <button type="button" className="link-button" onClick={logout}>
              Log out
            </button>
          </nav>
        ) : null}
      </header>

      {!session ? (
        <section className="card">
          <p>Log in with your Battle.net account to sync your World of Warcraft characters.</p>
          <button type="button" className="primary" data-testid="login-button" onClick={login}>
            Log in with Battle.net
          </button>
        </section>
      ) : route.name !== "home" ? (
        <RoutedPage route={route} client={client} onLogin={login} />
      ) : (
        <section className="card controls" aria-label="Sync">
          <label htmlFor="game-version">Game version</label>
          <select
            id="game-version"
            data-testid="game-version"
            value={version}
            disabled={sync.isSyncing}
            onChange={(e) => setVersion(e.target.value as GameVersion)}
          >
            {GAME_VERSIONS.map((v) => (
              <option key={v} value={v}>
                {VERSION_LABELS[v]}
              </option>
            ))}
          </select>
          <button
            type="button"
            className="primary"
            data-testid="sync-button"
            disabled={sync.isSyncing}
            onClick={startSync}
          >
            {sync.isSyncing ? "Syncing…" : "Sync characters"}
          </button>
        </section>
      )}

      {advice && (!session || route.name === "home") && (
        <div className="error" role="alert" data-testid="error-message">
          <span>{advice.text}</span>
          {advice.action === "login" && (
            <button type="button" className="primary" onClick={login}>
              Log in again
            </button>
          )}
        </div>
      )}

      {session && route.name === "home" && sync.isSyncing && !sync.progress && (
        <p className="muted" role="status">
          Starting the sync…
        </p>
      )}
      {session && route.name === "home" && sync.progress && (
        <CharacterSyncProgress progress={sync.progress} isConnected={sync.isConnected} />
      )}

      {session && route.name === "home" && characters !== null && (
        <section className="characters" aria-label="Your characters">
          <h2>Your characters ({characters.length})</h2>
          {characters.length === 0 ? (
            <p className="muted">No characters yet: sync to fetch them from Battle.net.</p>
          ) : (
            <ul className="character-list">
              {characters.map((c) => (
                <CharacterRow
                  key={c.id}
                  character={c}
                  syncStatus={statusById.get(c.id) ?? null}
                  busy={sync.isSyncing}
                  onRefresh={refresh}
                />
              ))}
            </ul>
          )}
        </section>
      )}
    </main>
  );
}

function statusesOf(progress: SyncProgress | null): Map<number, string> {
  return new Map((progress?.characters ?? []).map((c) => [c.id, c.status]));
}

interface CharacterRowProps {
  character: Character;
  syncStatus: string | null;
  busy: boolean;
  onRefresh: (character: Character) => void;
}

/** The character's avatar, or its initial when there is none or it cannot be loaded. */
function Avatar({ name, url }: { name: string; url: string | null }) {
  const [broken, setBroken] = useState(false);
  if (url && !broken) {
    return (
      <img
        className="avatar"
        src={url}
        alt=""
        width={56}
        height={56}
        loading="lazy"
        onError={() => setBroken(true)}
      />
    );
  }
  return (
    <span className="avatar avatar--empty" aria-hidden="true">
      {name.slice(0, 1)}
    </span>
  );
}

function CharacterRow({ character: c, syncStatus, busy, onRefresh }: CharacterRowProps) {
  const describe = [c.level !== null ? `Level ${c.level}` : null, c.race, c.class]
    .filter(Boolean)
    .join(" ");
  return (
    <li
      className={`character-row ${c.isActive ? "" : "character-row--archived"}`}
      data-testid="character-row"
      data-character-id={c.id}
    >
      <Avatar name={c.name} url={c.avatarUrl} />
      <div className="character-row__main">
        <div className="character-row__name">
          <a href={href.character(c.id)} data-testid="character-link">
            <strong>{c.name}</strong>
          </a>
          {syncStatus && syncStatus !== "pending" && (
            <span className={`badge badge--${syncStatus}`} data-testid="character-sync-status">
              {syncStatus}
            </span>
          )}
          {!c.isActive && <span className="badge">archived</span>}
        </div>
        <div className="muted">
          {describe || "Level unknown"} · {c.realm} ({c.region.toUpperCase()}{" "}
          {FLAVOR_LABELS[c.flavor] ?? c.flavor})
        </div>
        <div className="muted">{c.guild ? `<${c.guild.name}>` : "No guild"}</div>
      </div>
      <button
        type="button"
        className="secondary"
        data-testid="refresh-button"
        aria-label={`Refresh ${c.name}`}
        disabled={busy}
        onClick={() => onRefresh(c)}
      >
        Refresh
      </button>
    </li>
  );
}
