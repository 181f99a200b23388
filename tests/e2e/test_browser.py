"""The web page in Debian's Chromium, driven by Playwright, against the e2e stack (gateway +
emulator processes on the test cluster) with a consumer draining the queues: log in through
the emulator, sync, watch the bar reach 100 and every name appear; a second tab joining late
ends in the same state; a failed character shows as failed; errors are shown in words.

Only the page's data-testids (DESIGN.md section 10) are used to drive it. The emulator's
authorize page logs in as account N when `&user=N` is added: the test adds it to that one
navigation, so the page itself knows nothing of the emulator. Screenshots of every test go to
.local/browser-artifacts/; the time from the click to the first progress shown is printed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.conftest import ROOT
from tests.e2e.conftest import E2E

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / ".local" / "browser-artifacts"
TIMEOUT_MS = 30_000
# Records every aria-valuenow the bar shows, from the first render on (a MutationObserver, so
# no value is missed between two polls of the test).
RECORD_BAR = """
window.__bar = [];
new MutationObserver(() => {
  const bar = document.querySelector('[data-testid="sync-progress"]');
  if (!bar) return;
  const value = Number(bar.getAttribute('aria-valuenow'));
  if (window.__bar[window.__bar.length - 1] !== value) window.__bar.push(value);
}).observe(document, {subtree: true, childList: true, attributes: true,
                      attributeFilter: ['aria-valuenow']});
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        pytest.fail("web/dist is not built: `make web` (make test does it first)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield browser
        browser.close()


class Consumer:
    """Calls queue-consumer again and again in a thread (as `make run`'s loop does), one
    message per call so a sync advances character by character."""

    def __init__(self, e2e: E2E, max_messages: int = 1) -> None:
        self.url = f"{e2e.gw}/functions/v1/queue-consumer"
        self.headers = e2e.service
        self.body = {"maxMessages": max_messages, "maxSeconds": 5}
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.errors: list[str] = []

    def loop(self) -> None:
        with httpx.Client(timeout=30) as http:
            while not self.stopping.is_set():
                try:
                    result = http.post(self.url, json=self.body, headers=self.headers).json()
                except (httpx.HTTPError, ValueError) as exc:
                    self.errors.append(str(exc))
                    self.stopping.wait(0.5)
                    continue
                if not result.get("processed") and not result.get("failed"):
                    self.stopping.wait(0.05)

    def __enter__(self) -> Consumer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)


@pytest.fixture
def new_page(browser: Browser, e2e: E2E, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Open pages in fresh contexts (own sessionStorage); each gets a screenshot at the end."""
    pages: list[Page] = []

    def open_page() -> Page:
        context = browser.new_context(viewport={"width": 900, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.add_init_script(RECORD_BAR)
        pages.append(page)
        return page

    yield open_page
    for i, page in enumerate(pages):
        suffix = f"-tab{i + 1}" if len(pages) > 1 else ""
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"), full_page=True)
        page.context.close()


def login(page: Page, e2e: E2E, account: int) -> None:
    """Log in with the page's own button. The emulator's authorize page logs in as account N
    when `&user=N` is added: the test adds it to the login's redirect to that page (Playwright
    does not intercept a redirect's target, so the login answer itself is rewritten)."""

    def as_account(route: Route) -> None:
        answer = route.fetch(max_redirects=0)
        location = answer.headers.get("location", "")
        assert answer.status == 302 and location.startswith(e2e.emu), answer.text()
        route.fulfill(status=302, headers={"Location": f"{location}&user={account}"})

    page.route(lambda url: "/functions/v1/oauth-flow/login" in url, as_account)
    page.goto(e2e.gw + "/")
    page.get_by_test_id("login-button").click()
    page.get_by_test_id("sync-button").wait_for()
    assert "access_token" not in page.url, "the session must leave the address bar"
    e2e.drain_logins()  # each test starts its own sync


def start_sync(page: Page, version: str = "retail") -> None:
    page.get_by_test_id("game-version").select_option(version)
    page.get_by_test_id("sync-button").click()


def wait_completed(page: Page) -> None:
    page.wait_for_function(
        """() => {
          const bar = document.querySelector('[data-testid="sync-progress"]');
          const status = document.querySelector('[data-testid="sync-status"]');
          return bar && bar.getAttribute('aria-valuenow') === '100'
            && status && status.textContent === 'completed';
        }""",
        timeout=TIMEOUT_MS,
    )


def row_names(page: Page) -> list[str]:
    return sorted(
        page.get_by_test_id("character-row").evaluate_all(
            "rows => rows.map(r => r.querySelector('strong').textContent)"
        )
    )


def characters(
    *names: str, inactive: tuple[str, ...] = (), guild: str | None = None
) -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "realm": "area-52",
            "guild": guild if i % 2 == 0 else None,
            **({"inactive": True} if n in inactive else {}),
        }
        for i, n in enumerate(names)
    ]


NAMES = ("Aelwyn", "Borin", "Cyrielle", "Dûnmar", "Elspeth", "Fáelan")


def test_login_sync_progress_reaches_100_and_every_name_appears(
    e2e: E2E, new_page: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    e2e.set_characters(201, characters(*NAMES, guild="Mythical Warriors"))
    page = new_page()
    login(page, e2e, 201)
    e2e.emulator("POST", "/config", {"latency_ms": 100})
    with Consumer(e2e):
        started = time.monotonic()
        start_sync(page)
        page.wait_for_function(
            "() => { const b = document.querySelector('[data-testid=\"sync-progress\"]');"
            " const v = b && Number(b.getAttribute('aria-valuenow')); return v >= 50 && v < 100; }"
        )
        shot = {"x": 0, "y": 0, "width": 900, "height": 620}
        page.screenshot(path=str(ARTIFACTS / "sync-in-progress.png"), clip=shot)
        assert page.get_by_test_id("current-character").inner_text().strip()
        wait_completed(page)
        finished = time.monotonic() - started
    first = page.evaluate(
        "() => performance.getEntriesByName('guild-sync:click-to-first-progress')"
        ".map(e => e.duration)"
    )
    assert len(first) == 1 and first[0] > 0
    bar = page.evaluate("() => window.__bar")
    assert bar[-1] == 100 and bar == sorted(bar), f"the bar went back: {bar}"
    assert len(bar) >= 3, f"the bar should move in steps: {bar}"
    page.get_by_test_id("character-row").nth(len(NAMES) - 1).wait_for()
    assert row_names(page) == sorted(NAMES)
    page.get_by_test_id("character-row").filter(has_text="<Mythical Warriors>").nth(2).wait_for()
    assert page.get_by_test_id("error-message").count() == 0
    metrics = {
        "clickToFirstProgressMs": round(first[0], 1),
        "clickToCompleteS": round(finished, 2),
        "characters": len(NAMES),
        "emulatorLatencyMs": 100,
    }
    (ARTIFACTS / "metrics.json").write_text(json.dumps(metrics, indent=2))
    with capsys.disabled():  # shown in `make test`'s output too
        print(
            f"\nweb page: click to first progress shown {first[0]:.0f} ms; "
            f"{len(NAMES)} characters synced in {finished:.1f} s (emulator latency 100 ms)"
        )


def test_second_tab_joining_late_shows_the_same_final_state(e2e: E2E, new_page: Any) -> None:
    e2e.set_characters(202, characters(*NAMES, inactive=("Cyrielle",)))
    first, second = new_page(), new_page()
    login(first, e2e, 202)
    login(second, e2e, 202)
    e2e.emulator("POST", "/config", {"latency_ms": 250})
    with Consumer(e2e):
        start_sync(first)
        first.wait_for_function(
            "() => { const b = document.querySelector('[data-testid=\"sync-progress\"]');"
            " return b && Number(b.getAttribute('aria-valuenow')) >= 30; }"
        )
        start_sync(second)  # 409 sync_already_running: the tab joins the running session
        second.get_by_test_id("sync-progress").wait_for(state="attached")
        joined_at = second.evaluate("() => window.__bar")[0]
        wait_completed(first)
        wait_completed(second)
    assert joined_at >= 30, "a late joiner starts from the current state, not from zero"
    assert second.get_by_test_id("error-message").count() == 0

    def final(page: Page) -> dict[str, Any]:
        page.get_by_test_id("character-row").nth(len(NAMES) - 1).wait_for()
        return {
            "status": page.get_by_test_id("sync-status").inner_text(),
            "value": page.get_by_test_id("sync-progress").get_attribute("aria-valuenow"),
            "count": page.locator(".sync-progress__count").inner_text(),
            "names": row_names(page),
        }

    assert final(first) == final(second)
    assert final(second)["count"] == "6 / 6 (1 failed)"
    sessions = e2e.rows("select count(*) as n from character_sync_sessions")[0]["n"]
    assert sessions == 1, "the second tab joined; it did not start another sync"


def test_a_failed_character_shows_as_failed(e2e: E2E, new_page: Any) -> None:
    e2e.set_characters(203, characters("Alpha", "Ghost", "Kestrel", inactive=("Ghost",)))
    page = new_page()
    login(page, e2e, 203)
    with Consumer(e2e, max_messages=10):
        start_sync(page)
        wait_completed(page)
    items = page.get_by_test_id("sync-character")
    statuses = dict(
        zip(
            items.locator(".sync-character__name").all_inner_texts(),
            items.evaluate_all("els => els.map(e => e.dataset.status)"),
            strict=True,
        )
    )
    assert statuses == {"Alpha": "completed", "Ghost": "failed", "Kestrel": "completed"}
    failed_icon = items.filter(has_text="Ghost").get_by_role("img", name="failed")
    assert "status-icon--failed" in (failed_icon.get_attribute("class") or "")
    ghost_row = page.get_by_test_id("character-row").filter(has_text="Ghost")
    ghost_row.get_by_test_id("character-sync-status").wait_for()
    assert ghost_row.get_by_test_id("character-sync-status").inner_text() == "failed"
    assert "1 failed" in page.locator(".sync-progress__count").inner_text()


def test_errors_are_shown_in_words(e2e: E2E, new_page: Any) -> None:
    e2e.set_characters(204, characters("Alpha"))
    page = new_page()
    login(page, e2e, 204)
    e2e.emulator("POST", "/config", {"fault_rate": 1.0})
    start_sync(page)
    message = page.get_by_test_id("error-message")
    message.wait_for()
    assert "Battle.net is unavailable, try again" in message.inner_text()
    e2e.emulator("POST", "/config", {"fault_rate": 0.0})
    e2e.emulator("POST", "/accounts/204/revoke")
    start_sync(page)
    page.get_by_role("button", name="Log in again").wait_for()
    assert "Log in again to continue" in message.inner_text()
    assert page.get_by_test_id("sync-button").is_enabled()


def session_in(page: Page) -> dict[str, Any] | None:
    stored = page.evaluate("() => window.sessionStorage.getItem('guild-sync.session')")
    return json.loads(stored) if stored else None


def test_a_link_with_someone_elses_session_does_not_log_in(e2e: E2E, new_page: Any) -> None:
    """Login CSRF: an attacker logs in, puts their own session in a link to the page and sends
    it. The victim's page did not ask for that session (no nonce of this tab): it stays logged
    out, or logged in as the victim, and the token leaves the address bar."""
    e2e.set_characters(205, characters("Attacker"))
    e2e.set_characters(206, characters("Victim"))
    attacker = new_page()
    login(attacker, e2e, 205)
    theirs = session_in(attacker)
    assert theirs and theirs["accessToken"]
    fragment = (
        f"#access_token={theirs['accessToken']}&expires_at={theirs['expiresAt']}"
        f"&token_type=bearer&user_id={theirs['userId']}"
    )
    victim = new_page()
    for link in (
        f"{e2e.gw}/{fragment}",
        f"{e2e.gw}/?login_nonce=guessed-nonce-000000000{fragment}",
    ):
        victim.goto(link)
        victim.get_by_test_id("login-button").wait_for()
        assert session_in(victim) is None
        assert "access_token" not in victim.url and "login_nonce" not in victim.url
    login(victim, e2e, 206)  # the victim's own login works, nonce and all
    mine = session_in(victim)
    assert mine and mine["userId"] != theirs["userId"]
    victim.goto(f"{e2e.gw}/{fragment}")  # the page is open: the fragment arrives alone
    victim.wait_for_url(lambda url: "access_token" not in url)
    assert session_in(victim) == mine  # still the victim's own session
    victim.goto("about:blank")
    victim.goto(f"{e2e.gw}/{fragment}")  # a fresh load of the page
    victim.get_by_test_id("sync-button").wait_for()
    assert session_in(victim) == mine and "access_token" not in victim.url


# --- the character page, the snapshot comparison, the guild page, the preferences ----------

DOCS = ROOT / "docs"
PAGES_GUILD = {"realm": "area-52", "guild": "Page Keepers"}


def recent_login_ms() -> int:
    return int(time.time() * 1000) - 3_600_000


def test_character_page_comparison_guild_and_preferences(e2e: E2E, new_page: Any) -> None:
    """A character levels up and changes gear between two syncs: its page draws the level
    change with the data table, the comparison shows the changed slots, the guild page sorts,
    the preferences are kept after a reload; screenshots of each view (and at 375 px)."""
    login_ms = recent_login_ms()
    hero = {"id": 70001, "name": "Herowyn", "class_id": 8, "level": 79, "item_level": 600}
    alt = {"id": 70002, "name": "Altaria", "class_id": 4, "level": 80, "item_level": 590}
    before = [{**hero, "last_login": login_ms, **PAGES_GUILD}, {**alt, "last_login": login_ms}]
    e2e.set_characters(207, before)
    e2e.set_characters(
        208,
        [{"id": 70003, "name": "Guildmate", "level": 70, "last_login": login_ms, **PAGES_GUILD}],
    )
    owner, mate = e2e.login(207), e2e.login(208)
    for session in (owner, mate):
        assert e2e.sync(session).status_code == 202
    e2e.consume_all()
    time.sleep(1.1)  # Last-Modified has a resolution of one second
    e2e.set_characters(207, [{**before[0], "level": 80, "item_level": 612}, before[1]])
    assert e2e.sync(owner).status_code == 202
    e2e.consume_all()
    [row] = e2e.rows("select id from characters where name = 'Herowyn'")
    hero_id = row["id"]
    stored = e2e.rows(
        "select count(*)::int as n from character_snapshots "
        "where character_id = %s and kind = 'equipment'",
        hero_id,
    )
    assert stored == [{"n": 2}], "the gear change stores a second equipment snapshot"

    page = new_page()
    login(page, e2e, 207)
    page.get_by_test_id("character-row").nth(1).wait_for()

    # The character page: header, the chart with the level change drawn, its data table.
    page.get_by_test_id("character-link").filter(has_text="Herowyn").click()
    header = page.get_by_test_id("character-header")
    header.wait_for()
    assert "Level 80" in header.inner_text() and "<Page Keepers>" in header.inner_text()
    level_line = page.get_by_test_id("chart-line-level")
    assert level_line.get_attribute("data-changes") == "1"
    assert " V" in (level_line.get_attribute("d") or ""), "the step up is drawn"
    assert page.get_by_role("img", name="Level and item level over time").count() == 1
    table_rows = page.get_by_test_id("chart-row").all_inner_texts()
    assert any("Level" in r and "79" in r and "80" in r for r in table_rows), table_rows
    assert page.get_by_test_id("change-item").filter(has_text="Level 79 → 80").count() == 1
    assert page.get_by_test_id("equipment-slot").count() >= 10
    assert page.get_by_test_id("loadout-code").input_value()
    shot = ARTIFACTS / "character-page.png"
    page.screenshot(path=str(shot), full_page=True)

    # At phone width the page is one column: nothing wider than the screen.
    page.set_viewport_size({"width": 375, "height": 800})
    page.screenshot(path=str(ARTIFACTS / "character-page-375.png"), full_page=True)
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > 376)"
        ".map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || ''))"
    )
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375, wide
    page.set_viewport_size({"width": 900, "height": 900})

    # The comparison: the last two equipment snapshots by default, the changed slots listed.
    page.get_by_test_id("compare-link").click()
    page.get_by_test_id("equipment-diff").wait_for()
    changed = page.get_by_test_id("diff-slot").evaluate_all("rows => rows.map(r => r.dataset.slot)")
    assert {"HEAD", "CHEST", "MAIN_HAND"} <= set(changed), changed
    assert page.get_by_test_id("diff-ilvl").count() >= 3  # item level deltas shown
    page.screenshot(path=str(ARTIFACTS / "snapshot-compare.png"), full_page=True)
    if os.environ.get("GUILD_SYNC_UPDATE_DOCS") == "1":  # the README's pictures, on request
        (DOCS / "character-page.png").write_bytes(shot.read_bytes())
        (DOCS / "snapshot-compare.png").write_bytes(
            (ARTIFACTS / "snapshot-compare.png").read_bytes()
        )

    # The guild page, from the character's guild: sortable, the user's own marked.
    page.get_by_test_id("back-link").click()
    page.get_by_test_id("guild-link").click()
    page.get_by_test_id("guild-members").wait_for()

    def member_names() -> list[str]:
        return page.get_by_test_id("guild-member").evaluate_all(
            "rows => rows.map(r => r.cells[0].firstChild.textContent)"
        )

    assert sorted(member_names()) == ["Guildmate", "Herowyn"]
    mine = page.get_by_test_id("guild-member").filter(has=page.get_by_test_id("mine-badge"))
    assert mine.count() == 1 and "Herowyn" in mine.inner_text()
    page.get_by_test_id("sort-level").click()
    assert member_names() == ["Guildmate", "Herowyn"]  # 70, 80
    page.get_by_test_id("sort-level").click()
    assert member_names() == ["Herowyn", "Guildmate"]
    sorted_by = page.locator("th[aria-sort='descending']").inner_text()
    assert "Level" in sorted_by
    page.screenshot(path=str(ARTIFACTS / "guild-page.png"), full_page=True)

    # Preferences: saved, and kept after a reload.
    page.get_by_test_id("preferences-link").click()
    page.get_by_test_id("pref-auto-sync-daily").check()
    page.get_by_test_id("pref-version-classic_era").check()
    page.get_by_test_id("pref-save").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"pref-status\"]').textContent === 'Saved.'"
    )
    page.reload()
    page.get_by_test_id("pref-next-sync").wait_for()
    assert page.get_by_test_id("pref-auto-sync-daily").is_checked()
    assert page.get_by_test_id("pref-version-classic_era").is_checked()
    assert page.get_by_test_id("pref-version-retail").is_checked()
    page.screenshot(path=str(ARTIFACTS / "preferences.png"), full_page=True)

    # Another user's character: the 404 page.
    [other] = e2e.rows("select id from characters where name = 'Guildmate'")
    page.goto(f"{e2e.gw}/#/characters/{other['id']}")
    page.get_by_test_id("not-found").wait_for()
