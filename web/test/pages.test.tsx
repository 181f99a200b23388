import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it } from "vitest";

import { GuildSyncClient } from "../src/api";
import { App } from "../src/App";
import { CharacterPage } from "../src/pages/CharacterPage";
import { ComparePage } from "../src/pages/ComparePage";
import { GuildPage, sortMembers } from "../src/pages/GuildPage";
import { PreferencesPage } from "../src/pages/PreferencesPage";
import { parseRoute } from "../src/route";
import { CHARACTER, GUILD, NEW_ITEMS, OLD_ITEMS, talents } from "./data";
import { FakeApi, apiError, json } from "./fakes";

const ID = CHARACTER.id;
const BASE = `/api/v1/characters/${ID}`;
const HISTORY = {
  characterId: ID,
  changes: [
    { field: "transfer", from: 9, to: ID, observedAt: "2026-12-02T00:00:00Z", source: "sync" },
    {
      field: "guild",
      from: null,
      to: "Mythical Warriors",
      observedAt: "2026-12-01T12:00:00Z",
      source: "roster",
    },
    { field: "level", from: 80, to: 81, observedAt: "2026-12-01T00:00:00Z", source: "refresh" },
    {
      field: "name",
      from: "Alfa",
      to: "Alpha",
      observedAt: "2026-11-20T00:00:00Z",
      source: "sync",
    },
  ],
};
const EQUIPMENT_LIST = {
  characterId: ID,
  kind: "equipment",
  snapshots: [
    { id: 2, takenAt: "2026-12-02T00:00:00Z", itemLevel: 610 },
    { id: 1, takenAt: "2026-11-20T00:00:00Z", itemLevel: 600 },
  ],
};
const TALENT_LIST = {
  characterId: ID,
  kind: "talents",
  snapshots: [{ id: 3, takenAt: "2026-12-02T00:00:00Z", spec: "Frost" }],
};
const EMPTY_LIST = (kind: string) => ({ characterId: ID, kind, snapshots: [] });
const EQUIPMENT = (id: number, items: unknown) => ({
  id,
  kind: "equipment",
  takenAt: "2026-12-02T00:00:00Z",
  items,
});

function client(api: FakeApi): GuildSyncClient {
  return new GuildSyncClient({ baseUrl: "", getToken: () => "tok", fetch: api.fetch });
}

function characterApi(): FakeApi {
  return new FakeApi()
    .on("GET", "/api/v1/characters", () => json(200, { characters: [CHARACTER] }))
    .on("GET", `${BASE}/history`, () => json(200, HISTORY))
    .on("GET", `${BASE}/snapshots`, (r) =>
      json(
        200,
        r.url.includes("kind=equipment")
          ? EQUIPMENT_LIST
          : { ...TALENT_LIST, snapshots: [...TALENT_LIST.snapshots] },
      ),
    )
    .on("GET", `${BASE}/snapshots/2`, () => json(200, EQUIPMENT(2, NEW_ITEMS)))
    .on("GET", `${BASE}/snapshots/1`, () => json(200, EQUIPMENT(1, OLD_ITEMS)))
    .on("GET", `${BASE}/snapshots/3`, () =>
      json(200, { ...talents("Frost", "CODE123", [1, 2]), id: 3 }),
    );
}

const noLogin = () => undefined;

beforeEach(() => {
  window.sessionStorage.clear();
  window.history.replaceState(null, "", "/");
});

describe("routes", () => {
  it("reads hash routes and leaves the login fragment to the home page", () => {
    expect(parseRoute("#/characters/12")).toEqual({ name: "character", id: 12 });
    expect(parseRoute("#/characters/12/compare")).toEqual({ name: "compare", id: 12 });
    expect(parseRoute("#/guilds/5")).toEqual({ name: "guild", id: 5 });
    expect(parseRoute("#/preferences")).toEqual({ name: "preferences" });
    expect(parseRoute("#access_token=x&expires_at=1")).toEqual({ name: "home" });
    expect(parseRoute("")).toEqual({ name: "home" });
    expect(parseRoute("#/nope")).toMatchObject({ name: "unknown" });
  });
});

describe("the character page", () => {
  it("shows the header, the chart with its table, the changes, the equipment and the talents", async () => {
    render(<CharacterPage client={client(characterApi())} onLogin={noLogin} id={ID} />);
    expect(screen.getByTestId("loading")).toBeTruthy();
    const header = await screen.findByTestId("character-header");
    expect(header.textContent).toMatch(
      /Alpha.*Level 81 Human Mage.*Area 52.*<Mythical Warriors>.*Guild Master/,
    );
    expect(screen.getByTestId("guild-link").getAttribute("href")).toBe("#/guilds/5");
    const svg = screen.getByRole("img", { name: /Level and item level over time/ });
    expect(svg.querySelector("title")?.textContent).toBe("Level and item level over time");
    expect(screen.getByTestId("chart-line-level").getAttribute("data-changes")).toBe("1");
    const rows = within(screen.getByTestId("history-chart-table")).getAllByTestId("chart-row");
    expect(rows.map((r) => r.textContent)).toEqual([expect.stringMatching(/Level8081$/)]);
    const toggle = screen.getByTestId("chart-table-toggle");
    expect(screen.getByTestId("history-chart-data").className).toContain("visually-hidden");
    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect(screen.getByTestId("history-chart-data").className).not.toContain("visually-hidden");
    const changes = screen.getAllByTestId("change-item").map((li) => li.textContent);
    expect(changes).toEqual([
      expect.stringMatching(/Transferred from the character on its old realm/),
      expect.stringMatching(/Joined <Mythical Warriors>/),
      expect.stringMatching(/Level 80 → 81/),
      expect.stringMatching(/Renamed from Alfa to Alpha/),
    ]);
    expect(screen.getByTestId("transfer-link").getAttribute("href")).toBe("#/characters/9");
    const slots = screen.getAllByTestId("equipment-slot");
    expect(slots.map((s) => s.getAttribute("data-slot"))).toEqual([
      "HEAD",
      "CHEST",
      "FEET",
      "FINGER_1",
    ]);
    expect(slots[0]?.querySelector(".quality--epic")?.textContent).toBe("Crown of Gains");
    expect(slots[0]?.textContent).toContain("619");
    expect((screen.getByTestId("loadout-code") as HTMLInputElement).value).toBe("CODE123");
    expect(screen.getByLabelText("Loadout code")).toBeTruthy();
    expect(screen.getByTestId("talents").textContent).toContain("Frost");
    expect(screen.getByTestId("compare-link").getAttribute("href")).toBe(
      `#/characters/${ID}/compare`,
    );
  });

  it("says what is missing: no history, no snapshot, no guild", async () => {
    const api = new FakeApi()
      .on("GET", "/api/v1/characters", json(200, { characters: [{ ...CHARACTER, guild: null }] }))
      .on("GET", `${BASE}/history`, json(200, { characterId: ID, changes: [] }))
      .on("GET", `${BASE}/snapshots`, (r) =>
        json(200, EMPTY_LIST(r.url.includes("equipment") ? "equipment" : "talents")),
      );
    render(<CharacterPage client={client(api)} onLogin={noLogin} id={ID} />);
    await screen.findByTestId("character-header");
    for (const id of [
      "history-empty",
      "changes-empty",
      "equipment-empty",
      "talents-empty",
      "no-guild",
    ]) {
      expect(screen.getByTestId(id)).toBeTruthy();
    }
    expect(screen.queryByTestId("history-chart")).toBeNull();
    expect(screen.queryByTestId("compare-link")).toBeNull();
    expect(api.requests.some((r) => /snapshots\/\d/.test(r.url))).toBe(false);
  });

  it("shows the 404 page for another user's character", async () => {
    const api = new FakeApi()
      .on("GET", "/api/v1/characters", json(200, { characters: [] }))
      .on("GET", "/api/v1/characters/99/history", apiError(404, "not_found", "no such character"))
      .on(
        "GET",
        "/api/v1/characters/99/snapshots",
        apiError(404, "not_found", "no such character"),
      );
    render(<CharacterPage client={client(api)} onLogin={noLogin} id={99} />);
    expect((await screen.findByTestId("not-found")).textContent).toMatch(/not yours/);
  });

  it("asks to log in again when the session expired", async () => {
    const api = new FakeApi().on(
      "GET",
      "/api/v1/characters",
      apiError(401, "unauthorized", "expired"),
    );
    api.on("GET", `${BASE}/history`, apiError(401, "unauthorized", "expired"));
    api.on("GET", `${BASE}/snapshots`, apiError(401, "unauthorized", "expired"));
    let logins = 0;
    render(<CharacterPage client={client(api)} onLogin={() => (logins += 1)} id={ID} />);
    const message = await screen.findByTestId("error-message");
    expect(message.textContent).toMatch(/session has expired/);
    fireEvent.click(within(message).getByRole("button", { name: "Log in again" }));
    expect(logins).toBe(1);
  });
});

describe("the snapshot comparison", () => {
  it("compares the last two equipment snapshots by default and another pair on demand", async () => {
    const api = characterApi();
    render(<ComparePage client={client(api)} onLogin={noLogin} id={ID} />);
    const diff = await screen.findByTestId("equipment-diff");
    const slots = within(diff).getAllByTestId("diff-slot");
    expect(slots.map((s) => [s.getAttribute("data-slot"), s.getAttribute("data-status")])).toEqual([
      ["HEAD", "changed"],
      ["CHEST", "changed"],
      ["TABARD", "removed"],
      ["FEET", "added"],
      ["FINGER_1", "changed"],
    ]);
    expect(slots[0]?.textContent).toMatch(/Item 100 \(600\).*Crown of Gains \(619\).*\+19/);
    expect(slots[1]?.textContent).toMatch(/Enchant: \+10 Stamina → \+20 Stamina/);
    expect(slots[4]?.textContent).toMatch(/Gems: Ruby → Sapphire/);
    expect((screen.getByTestId("compare-before") as HTMLSelectElement).value).toBe("1");
    // the same snapshot on both sides: nothing differs
    fireEvent.change(screen.getByTestId("compare-before"), { target: { value: "2" } });
    expect(await screen.findByTestId("diff-none")).toBeTruthy();
    // one talent snapshot: nothing to compare yet
    expect(screen.getByTestId("talents-compare-empty").textContent).toMatch(
      /Only one talents snapshot/,
    );
    expect(api.requestsTo(`${BASE}/snapshots/2`)).toHaveLength(1); // fetched once
  });

  it("compares talents", async () => {
    const api = new FakeApi()
      .on("GET", `${BASE}/snapshots`, (r) =>
        json(
          200,
          r.url.includes("equipment")
            ? EMPTY_LIST("equipment")
            : {
                ...TALENT_LIST,
                snapshots: [
                  { id: 5, takenAt: "2026-12-02T00:00:00Z" },
                  { id: 4, takenAt: "2026-12-01T00:00:00Z" },
                ],
              },
        ),
      )
      .on("GET", `${BASE}/snapshots/4`, json(200, { ...talents("Fire", "A", [1, 2]), id: 4 }))
      .on("GET", `${BASE}/snapshots/5`, json(200, { ...talents("Frost", "B", [2, 3]), id: 5 }));
    render(<ComparePage client={client(api)} onLogin={noLogin} id={ID} />);
    expect((await screen.findByTestId("talents-diff-spec")).textContent).toBe(
      "Specialization: Fire → Frost",
    );
    expect(screen.getByTestId("talents-diff-added").textContent).toBe("Added: Talent 3");
    expect(screen.getByTestId("talents-diff-removed").textContent).toBe("Removed: Talent 1");
    expect(screen.getByTestId("compare-empty").textContent).toMatch(/No equipment snapshot yet/);
  });

  it("shows errors and the 404 page", async () => {
    const gone = new FakeApi().on(
      "GET",
      `${BASE}/snapshots`,
      apiError(404, "not_found", "no such character"),
    );
    const { unmount } = render(<ComparePage client={client(gone)} onLogin={noLogin} id={ID} />);
    expect(await screen.findByTestId("not-found")).toBeTruthy();
    unmount();
    const api = new FakeApi()
      .on("GET", `${BASE}/snapshots`, (r) =>
        json(200, r.url.includes("equipment") ? EQUIPMENT_LIST : EMPTY_LIST("talents")),
      )
      .on("GET", `${BASE}/snapshots/1`, apiError(500, "internal", "boom"))
      .on("GET", `${BASE}/snapshots/2`, json(200, EQUIPMENT(2, NEW_ITEMS)));
    render(<ComparePage client={client(api)} onLogin={noLogin} id={ID} />);
    expect((await screen.findByTestId("error-message")).textContent).toMatch(/had a problem/);
  });
});

describe("the guild page", () => {
  it("lists members with the user's own marked, sorts and filters them", async () => {
    const api = new FakeApi().on("GET", "/api/v1/guilds/5", json(200, GUILD));
    render(<GuildPage client={client(api)} onLogin={noLogin} id={5} />);
    expect((await screen.findByTestId("guild-name")).textContent).toBe("<Mythical Warriors>");
    const names = () =>
      screen
        .getAllByTestId("guild-member")
        .map((r) => (r as HTMLTableRowElement).cells[0]?.textContent);
    expect(names()).toEqual(["Alphayours", "Bea", "zed"]); // by rank
    expect(screen.getAllByTestId("mine-badge")).toHaveLength(1);
    fireEvent.click(screen.getByTestId("sort-level"));
    expect(names()).toEqual(["zed", "Alphayours", "Bea"]); // unknown level last
    expect(screen.getByTestId("sort-level").closest("th")?.getAttribute("aria-sort")).toBe(
      "ascending",
    );
    fireEvent.click(screen.getByTestId("sort-level"));
    expect(names()).toEqual(["Alphayours", "zed", "Bea"]);
    expect(screen.getByTestId("sort-level").closest("th")?.getAttribute("aria-sort")).toBe(
      "descending",
    );
    fireEvent.click(screen.getByTestId("sort-name"));
    expect(names()).toEqual(["Alphayours", "Bea", "zed"]);
    fireEvent.change(screen.getByTestId("guild-filter"), { target: { value: "korg" } });
    expect(names()).toEqual(["zed"]);
    fireEvent.change(screen.getByTestId("guild-filter"), { target: { value: "nobody" } });
    expect(screen.getByTestId("guild-filter-empty")).toBeTruthy();
  });

  it("sorts by last seen (login, else roster sighting)", () => {
    expect(sortMembers(GUILD.members, "lastSeen", true).map((m) => m.name)).toEqual([
      "Bea",
      "Alpha",
      "zed",
    ]);
  });

  it("says when it has no members, and is a 404 for a stranger", async () => {
    const empty = new FakeApi().on("GET", "/api/v1/guilds/5", json(200, { ...GUILD, members: [] }));
    const { unmount } = render(<GuildPage client={client(empty)} onLogin={noLogin} id={5} />);
    expect(await screen.findByTestId("guild-empty")).toBeTruthy();
    unmount();
    const stranger = new FakeApi().on(
      "GET",
      "/api/v1/guilds/6",
      apiError(404, "not_found", "no such guild"),
    );
    render(<GuildPage client={client(stranger)} onLogin={noLogin} id={6} />);
    expect((await screen.findByTestId("not-found")).textContent).toMatch(/guild/);
  });
});

describe("the preferences", () => {
  it("shows the choice and the next planned sync, and saves a change", async () => {
    const api = new FakeApi()
      .on(
        "GET",
        "/api/v1/me/sync-preferences",
        json(200, {
          autoSync: "on_login",
          gameVersions: ["retail"],
          nextSyncAt: null,
          reason: "on_login",
        }),
      )
      .on("PUT", "/api/v1/me/sync-preferences", (r) =>
        json(200, { ...(r.body as object), nextSyncAt: "2026-12-07T05:00:00Z", reason: null }),
      );
    render(<PreferencesPage client={client(api)} onLogin={noLogin} />);
    expect((await screen.findByTestId("pref-next-sync")).textContent).toBe(
      "The next sync runs when you log in.",
    );
    expect((screen.getByTestId("pref-auto-sync-on_login") as HTMLInputElement).checked).toBe(true);
    expect(screen.getByRole("radio", { name: /Daily/ })).toBeTruthy();
    fireEvent.click(screen.getByTestId("pref-auto-sync-daily"));
    fireEvent.click(screen.getByTestId("pref-version-classic_era"));
    fireEvent.click(screen.getByTestId("pref-save"));
    await waitFor(() => expect(screen.getByTestId("pref-status").textContent).toBe("Saved."));
    expect(api.requestsTo("/api/v1/me/sync-preferences").at(-1)?.body).toEqual({
      autoSync: "daily",
      gameVersions: ["retail", "classic_era"],
    });
    expect(screen.getByTestId("pref-next-sync").textContent).toMatch(
      /^Next planned sync: Dec 7, 2026/,
    );
    // no game version: nothing to save
    fireEvent.click(screen.getByTestId("pref-version-retail"));
    fireEvent.click(screen.getByTestId("pref-version-classic_era"));
    expect((screen.getByTestId("pref-save") as HTMLButtonElement).disabled).toBe(true);
  });

  it("says why a save failed, and asks to log in again when the session expired", async () => {
    const api = new FakeApi()
      .on(
        "GET",
        "/api/v1/me/sync-preferences",
        json(200, {
          autoSync: "off",
          gameVersions: ["retail"],
          nextSyncAt: null,
          reason: "auto_sync_off",
        }),
      )
      .on(
        "PUT",
        "/api/v1/me/sync-preferences",
        apiError(400, "bad_request", "unknown gameVersion"),
      );
    const { unmount } = render(<PreferencesPage client={client(api)} onLogin={noLogin} />);
    expect((await screen.findByTestId("pref-next-sync")).textContent).toMatch(/auto-sync is off/);
    fireEvent.click(screen.getByTestId("pref-save"));
    expect((await screen.findByTestId("error-message")).textContent).toBe("unknown gameVersion");
    unmount();
    const expired = new FakeApi().on(
      "GET",
      "/api/v1/me/sync-preferences",
      apiError(401, "unauthorized", "x"),
    );
    render(<PreferencesPage client={client(expired)} onLogin={noLogin} />);
    const message = await screen.findByTestId("error-message");
    expect(within(message).getByRole("button", { name: "Log in again" })).toBeTruthy();
  });
});

describe("the page's routes", () => {
  it("opens a character from its row and goes back", async () => {
    const NOW = Math.floor(Date.now() / 1000);
    window.sessionStorage.setItem("guild-sync.login-nonce", "the-nonce-of-this-tab-1");
    window.history.replaceState(
      null,
      "",
      `/?login_nonce=the-nonce-of-this-tab-1#access_token=tok&expires_at=${NOW + 3600}&token_type=bearer&user_id=u1`,
    );
    render(<App apiBase="" fetch={characterApi().fetch} />);
    const link = await screen.findByTestId("character-link");
    expect(link.getAttribute("href")).toBe(`#/characters/${ID}`);
    window.location.hash = `#/characters/${ID}`;
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(await screen.findByTestId("character-header")).toBeTruthy();
    expect(screen.queryByTestId("sync-button")).toBeNull();
    window.location.hash = "#/";
    window.dispatchEvent(new HashChangeEvent("hashchange"));
    expect(await screen.findByTestId("sync-button")).toBeTruthy();
  });
});
