import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";

import { App } from "../src/App";
import { loadSession, loginUrl, newLoginNonce } from "../src/session";
import {
  ALPHA,
  EventStream,
  FakeApi,
  GHOST,
  SID,
  apiError,
  completeData,
  flush,
  json,
  progressData,
} from "./fakes";

const NOW = Math.floor(Date.now() / 1000);
const CHARS = [
  {
    ...ALPHA,
    realmSlug: "area-52",
    region: "us",
    flavor: "",
    level: 80,
    class: "Mage",
    race: "Human",
    faction: "ALLIANCE",
    itemLevel: 600,
    avatarUrl: "https://render.example/alpha-avatar.jpg",
    guild: { id: 1, name: "Mythical Warriors", realm: "area-52" },
    isActive: true,
    enrichedAt: null,
  },
  {
    ...GHOST,
    realmSlug: "area-52",
    region: "us",
    flavor: "",
    level: 12,
    class: "Rogue",
    race: "Orc",
    faction: "HORDE",
    itemLevel: null,
    avatarUrl: null,
    guild: null,
    isActive: true,
    enrichedAt: null,
  },
];

const NONCE_KEY = "guild-sync.login-nonce";

/** The address the login callback sends the browser back to, after a login this tab began. */
function loggedIn(token = "tok.en.sig"): void {
  window.sessionStorage.setItem(NONCE_KEY, "the-nonce-of-this-tab-1");
  window.history.replaceState(
    null,
    "",
    `/?x=1&login_nonce=the-nonce-of-this-tab-1#access_token=${token}&expires_at=${NOW + 3600}&token_type=bearer&user_id=u1`,
  );
}

beforeEach(() => {
  window.sessionStorage.clear();
  window.history.replaceState(null, "", "/");
});

describe("the page", () => {
  it("logs in through oauth-flow/login with redirect_to back to the page and a new nonce", () => {
    const visited: string[] = [];
    render(<App apiBase="" fetch={new FakeApi().fetch} navigate={(u) => visited.push(u)} />);
    fireEvent.click(screen.getByTestId("login-button"));
    const nonce = window.sessionStorage.getItem(NONCE_KEY);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(visited).toEqual([
      `/functions/v1/oauth-flow/login?redirect_to=${encodeURIComponent(`${window.location.origin}/?login_nonce=${nonce}`)}`,
    ]);
    fireEvent.click(screen.getByTestId("login-button"));
    expect(window.sessionStorage.getItem(NONCE_KEY)).not.toBe(nonce); // one per login
    expect(
      loginUrl("https://gs.example", "https://app.example/p?q=1&login_nonce=old#x", "n1"),
    ).toBe(
      "https://gs.example/functions/v1/oauth-flow/login?redirect_to=https%3A%2F%2Fapp.example%2Fp%3Fq%3D1%26login_nonce%3Dn1",
    );
  });

  it("makes a random nonce of 22 url-safe characters each time", () => {
    const nonces = new Set(Array.from({ length: 50 }, () => newLoginNonce()));
    expect(nonces.size).toBe(50);
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const zeros = { getRandomValues: <T extends ArrayBufferView>(a: T) => a };
    expect(newLoginNonce(window.sessionStorage, zeros as Pick<Crypto, "getRandomValues">)).toBe(
      "AAAAAAAAAAAAAAAAAAAAAA",
    );
    expect(window.sessionStorage.getItem(NONCE_KEY)).toBe("AAAAAAAAAAAAAAAAAAAAAA");
  });

  it("ignores and clears a session it did not ask for (no nonce kept in this tab)", async () => {
    window.history.replaceState(
      null,
      "",
      `/?x=1#access_token=attacker&expires_at=${NOW + 3600}&token_type=bearer&user_id=evil`,
    );
    render(<App apiBase="" fetch={new FakeApi().fetch} />);
    expect(screen.getByTestId("login-button")).toBeTruthy();
    expect(window.location.hash).toBe("");
    expect(window.location.search).toBe("?x=1");
    expect(window.sessionStorage.getItem("guild-sync.session")).toBeNull();
  });

  it("ignores a fragment whose nonce is not this tab's, and uses a nonce once", () => {
    window.sessionStorage.setItem(NONCE_KEY, "mine");
    window.history.replaceState(
      null,
      "",
      `/?login_nonce=theirs#access_token=attacker&expires_at=${NOW + 3600}&token_type=bearer`,
    );
    expect(loadSession()).toBeNull();
    expect(window.location.search + window.location.hash).toBe("");
    expect(window.sessionStorage.getItem(NONCE_KEY)).toBeNull(); // spent by the attempt
    loggedIn("first");
    expect(loadSession()?.accessToken).toBe("first");
    window.sessionStorage.removeItem("guild-sync.session");
    window.history.replaceState(
      null,
      "",
      `/?login_nonce=the-nonce-of-this-tab-1#access_token=replayed&expires_at=${NOW + 3600}`,
    );
    expect(loadSession()).toBeNull(); // the same nonce again: refused
  });

  it("clears a session that arrives in the fragment while the page is open", async () => {
    loggedIn("mine");
    const api = new FakeApi().on("GET", "/api/v1/characters", json(200, { characters: CHARS }));
    render(<App apiBase="" fetch={api.fetch} />);
    await screen.findAllByTestId("character-row");
    act(() => {
      window.history.replaceState(null, "", `/#access_token=attacker&expires_at=${NOW + 3600}`);
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    });
    expect(window.location.hash).toBe("");
    expect(window.sessionStorage.getItem("guild-sync.session")).toContain("mine");
    expect(screen.getByTestId("sync-button")).toBeTruthy();
  });

  it("keeps the user's own session when a link brings someone else's", () => {
    loggedIn("mine");
    expect(loadSession()?.accessToken).toBe("mine");
    window.history.replaceState(
      null,
      "",
      `/#access_token=attacker&expires_at=${NOW + 3600}&token_type=bearer&user_id=evil`,
    );
    expect(loadSession()?.accessToken).toBe("mine");
    expect(window.location.hash).toBe("");
  });

  it("reads the session from the fragment, keeps it, and clears the address bar", async () => {
    loggedIn();
    const api = new FakeApi().on("GET", "/api/v1/characters", json(200, { characters: CHARS }));
    render(<App apiBase="" fetch={api.fetch} />);
    expect(window.location.hash).toBe("");
    expect(window.location.search).toBe("?x=1");
    expect(window.sessionStorage.getItem("guild-sync.session")).toContain("tok.en.sig");
    const rows = await screen.findAllByTestId("character-row");
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringMatching(/Alpha.*Level 80 Human Mage.*Area 52.*<Mythical Warriors>/),
      expect.stringMatching(/Ghost.*Level 12 Orc Rogue.*No guild/),
    ]);
    const avatar = rows[0]?.querySelector("img");
    expect(avatar?.getAttribute("src")).toBe("https://render.example/alpha-avatar.jpg");
    fireEvent.error(avatar!); // an avatar that cannot be loaded gives way to the initial
    expect(rows[0]?.querySelector("img")).toBeNull();
    expect(rows[0]?.querySelector(".avatar")?.textContent).toBe("A");
    expect(api.requests[0]?.headers.get("Authorization")).toBe("Bearer tok.en.sig");
    expect(screen.queryByTestId("login-button")).toBeNull();
  });

  it("syncs with the chosen game version and shows the progress live", async () => {
    loggedIn();
    const stream = new EventStream();
    const api = new FakeApi()
      .on(
        "GET",
        "/api/v1/characters",
        json(200, { characters: [] }),
        json(200, { characters: CHARS }),
      )
      .on(
        "POST",
        "/api/v1/characters/sync",
        json(202, { sessionId: SID, syncedCharacters: 2, characters: [ALPHA, GHOST] }),
      )
      .streams(SID, stream);
    render(<App apiBase="" fetch={api.fetch} />);
    await screen.findByText(/No characters yet/);
    fireEvent.change(screen.getByTestId("game-version"), {
      target: { value: "classic_anniversary" },
    });
    fireEvent.click(screen.getByTestId("sync-button"));
    await act(flush);
    expect(api.requestsTo("/api/v1/characters/sync")[0]?.body).toEqual({
      gameVersion: "classic_anniversary",
    });
    expect((screen.getByTestId("sync-button") as HTMLButtonElement).disabled).toBe(true);
    await act(async () => {
      stream.send("sync-progress", progressData(1, 2, { ...ALPHA, status: "completed" }), 3);
      await flush();
    });
    expect(screen.getByTestId("sync-progress").getAttribute("aria-valuenow")).toBe("50");
    expect(screen.getByTestId("current-character").textContent).toContain("Alpha");
    expect(performance.getEntriesByName("guild-sync:click-to-first-progress")).toHaveLength(1);
    await act(async () => {
      stream
        .send("sync-progress", progressData(2, 2, { ...GHOST, status: "failed" }, 1), 4)
        .send("sync-complete", completeData(2, 1), 5);
      await flush();
    });
    expect(screen.getByTestId("sync-status").textContent).toBe("completed");
    const rows = await screen.findAllByTestId("character-row");
    expect(rows[1]?.textContent).toContain("failed");
    expect((screen.getByTestId("sync-button") as HTMLButtonElement).disabled).toBe(false);
  });

  it("refresh enriches one character and follows its session", async () => {
    loggedIn();
    const stream = new EventStream();
    const api = new FakeApi()
      .on("GET", "/api/v1/characters", json(200, { characters: CHARS }))
      .on(
        "POST",
        `/api/v1/characters/${GHOST.id}/enrich`,
        json(202, { sessionId: SID, jobId: 9, character: GHOST }),
      )
      .streams(SID, stream);
    render(<App apiBase="" fetch={api.fetch} />);
    fireEvent.click(await screen.findByRole("button", { name: "Refresh Ghost" }));
    await act(async () => {
      stream.send("sync-progress", progressData(0, 1, { ...GHOST, status: "processing" }), 1);
      await flush();
    });
    expect(screen.getByTestId("current-character").textContent).toContain("Ghost");
    expect(api.requestsTo(`/api/v1/characters/sync/${SID}/events`)).toHaveLength(1);
  });

  it.each([
    [apiError(409, "relogin_required", "x"), /Battle.net login has expired.*Log in again/, true],
    [
      apiError(503, "blizzard_unavailable", "x", {}, { "Retry-After": "30" }),
      /Battle.net is unavailable, try again in 30 seconds/,
      false,
    ],
    [
      apiError(502, "blizzard_server_error", "x"),
      /Battle.net is unavailable, try again in a minute/,
      false,
    ],
    [
      apiError(400, "bad_request", "unknown gameVersion; valid: retail, classic_era"),
      /unknown gameVersion; valid/,
      false,
    ],
  ])("shows errors in words with what to do (%#)", async (answer, words, relogin) => {
    loggedIn();
    const api = new FakeApi()
      .on("GET", "/api/v1/characters", json(200, { characters: [] }))
      .on("POST", "/api/v1/characters/sync", answer);
    const visited: string[] = [];
    render(<App apiBase="" fetch={api.fetch} navigate={(u) => visited.push(u)} />);
    fireEvent.click(screen.getByTestId("sync-button"));
    const message = await screen.findByTestId("error-message");
    expect(message.textContent).toMatch(words);
    expect(message.getAttribute("role")).toBe("alert");
    const again = screen.queryByRole("button", { name: "Log in again" });
    expect(again !== null).toBe(relogin);
    if (again) {
      fireEvent.click(again);
      expect(visited[0]).toContain("/functions/v1/oauth-flow/login?redirect_to=");
    }
  });

  it("an expired session is not used", async () => {
    window.history.replaceState(
      null,
      "",
      `/#access_token=old&expires_at=${NOW - 5}&token_type=bearer&user_id=u1`,
    );
    render(<App apiBase="" fetch={new FakeApi().fetch} />);
    await waitFor(() => expect(screen.getByTestId("login-button")).toBeTruthy());
    expect(window.sessionStorage.getItem("guild-sync.session")).toBeNull();
    expect(window.location.hash).toBe("");
  });
});
