// The user's Guild Sync session in the page: read from the login callback's fragment
// (`#access_token=...&expires_at=...&token_type=bearer&user_id=...`), kept in sessionStorage
// (this tab only, gone when it closes), and cleared from the address bar at once with
// history.replaceState so the token is neither bookmarked nor shared.
//
// The page accepts only the session it asked for: before it sends the browser to the login it
// keeps a random nonce in sessionStorage and puts it in the `redirect_to` it gives the login
// (`?login_nonce=...`, which the callback keeps). A fragment that comes back without that
// nonce (a link someone else made, carrying their session: a login CSRF) is ignored and
// cleared; the nonce is used once.

export interface UserSession {
  accessToken: string;
  expiresAt: number; // epoch seconds
  userId: string;
}

const KEY = "guild-sync.session";
const NONCE_KEY = "guild-sync.login-nonce";
/** The query parameter of `redirect_to` that carries the nonce back. */
export const NONCE_PARAM = "login_nonce";
const NONCE_BYTES = 16; // 22 characters of base64url

/** A new random nonce for one login, kept in this tab's sessionStorage. */
export function newLoginNonce(
  storage: Storage = window.sessionStorage,
  random: Pick<Crypto, "getRandomValues"> = crypto,
): string {
  const bytes = random.getRandomValues(new Uint8Array(NONCE_BYTES));
  const nonce = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  storage.setItem(NONCE_KEY, nonce);
  return nonce;
}

/** Whether `nonce` is the one this tab asked for; the kept nonce is spent either way. */
function takeNonce(storage: Storage, nonce: string | null): boolean {
  const expected = storage.getItem(NONCE_KEY);
  storage.removeItem(NONCE_KEY);
  return expected !== null && expected.length > 0 && nonce === expected;
}

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

/** What the login fragment carried when this tab asked for it, or else what this tab kept;
 * the fragment and the nonce are cleared from the address bar. */
export function loadSession(
  win: Pick<Window, "location" | "history" | "sessionStorage"> = window,
  nowSeconds: number = Date.now() / 1000,
): UserSession | null {
  const fromFragment = sessionFromFragment(win.location.hash);
  const query = new URLSearchParams(win.location.search);
  const nonce = query.get(NONCE_PARAM);
  if (fromFragment || nonce !== null) {
    query.delete(NONCE_PARAM);
    const search = query.toString();
    const clean = win.location.pathname + (search ? `?${search}` : "");
    win.history.replaceState(win.history.state, "", clean);
  }
  if (fromFragment && takeNonce(win.sessionStorage, nonce)) {
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

/** Where "Log in with Battle.net" goes: the gateway's login, coming back to this page with
 * the login's nonce in the query (see newLoginNonce). */
export function loginUrl(apiBase: string, pageUrl: string, nonce: string): string {
  const back = new URL(pageUrl.split("#", 1)[0] ?? pageUrl);
  back.searchParams.set(NONCE_PARAM, nonce);
  const redirect = encodeURIComponent(back.toString());
  return `${apiBase}/functions/v1/oauth-flow/login?redirect_to=${redirect}`;
}
