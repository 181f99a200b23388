// The user's Guild Sync session in the page: read from the login callback's fragment
// (`#access_token=...&expires_at=...&token_type=bearer&user_id=...`), kept in sessionStorage
// (this tab only, gone when it closes), and cleared from the address bar at once with
// history.replaceState so the token is neither bookmarked nor shared.

export interface UserSession {
  accessToken: string;
  expiresAt: number; // epoch seconds
  userId: string;
}

const KEY = "guild-sync.session";

function valid(session: UserSession | null, nowSeconds: number): UserSession | null {
  if (!session || !session.accessToken || !(session.expiresAt > nowSeconds)) return null;
  return session;
}

/** The session in a URL fragment, or null when the fragment holds none. */
export function sessionFromFragment(hash: string): UserSession | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const accessToken = params.get("access_token");
  if (!accessToken) return null;
  const expiresAt = Number(params.get("expires_at"));
  return {
    accessToken,
    expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0,
    userId: params.get("user_id") ?? "",
  };
}

/** What the login fragment carried, or else what this tab kept; the fragment is cleared. */
export function loadSession(
  win: Pick<Window, "location" | "history" | "sessionStorage"> = window,
  nowSeconds: number = Date.now() / 1000,
): UserSession | null {
  const fromFragment = sessionFromFragment(win.location.hash);
  if (fromFragment) {
    const clean = win.location.pathname + win.location.search;
    win.history.replaceState(win.history.state, "", clean);
    const session = valid(fromFragment, nowSeconds);
    if (session) win.sessionStorage.setItem(KEY, JSON.stringify(session));
    return session;
  }
  try {
    const stored = JSON.parse(win.sessionStorage.getItem(KEY) ?? "null") as UserSession | null;
    const session = valid(stored, nowSeconds);
    if (!session) win.sessionStorage.removeItem(KEY);
    return session;
  } catch {
    win.sessionStorage.removeItem(KEY);
    return null;
  }
}

/** The token this tab keeps (what loadSession stored), or null. */
export function storedToken(
  storage: Storage = window.sessionStorage,
  nowSeconds: number = Date.now() / 1000,
): string | null {
  try {
    const stored = JSON.parse(storage.getItem(KEY) ?? "null") as UserSession | null;
    return valid(stored, nowSeconds)?.accessToken ?? null;
  } catch {
    return null;
  }
}

export function clearSession(storage: Storage = window.sessionStorage): void {
  storage.removeItem(KEY);
}

/** Where "Log in with Battle.net" goes: the gateway's login, coming back to this page. */
export function loginUrl(apiBase: string, pageUrl: string): string {
  const back = pageUrl.split("#", 1)[0] ?? pageUrl;
  return `${apiBase}/functions/v1/oauth-flow/login?redirect_to=${encodeURIComponent(back)}`;
}
