import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { CharacterSyncProgress } from "../src/CharacterSyncProgress";
import { applyEvent, initialProgress } from "../src/progress";
import { ALPHA, GHOST, SID, completeData, progressData } from "./fakes";

describe("CharacterSyncProgress", () => {
  it("shows the bar with its value, the current character and each character's status", () => {
    let progress = initialProgress(SID, [ALPHA, GHOST]);
    progress = applyEvent(progress, {
      type: "sync-progress",
      data: progressData(1, 2, { ...ALPHA, status: "completed" }),
    });
    progress = applyEvent(progress, {
      type: "sync-progress",
      data: progressData(1, 2, { ...GHOST, status: "processing" }),
    });
    render(<CharacterSyncProgress progress={progress} isConnected />);
    const bar = screen.getByRole("progressbar");
    expect(bar.getAttribute("aria-valuenow")).toBe("50");
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("100");
    expect(bar.dataset.testid).toBe("sync-progress");
    expect(screen.getByTestId("sync-status").textContent).toBe("processing");
    expect(screen.getByTestId("current-character").textContent).toContain("Ghost");
    const rows = screen.getAllByTestId("sync-character");
    expect(
      rows.map((r) => [r.textContent?.includes(r.dataset.status ?? "?"), r.dataset.status]),
    ).toEqual([
      [true, "completed"],
      [true, "processing"],
    ]);
    expect(within(rows[1]!).getByRole("img", { name: "processing" }).className).toContain(
      "status-icon--processing",
    );
  });

  it("announces status changes in a polite live region", () => {
    const progress = applyEvent(initialProgress(SID), {
      type: "sync-complete",
      data: completeData(3, 1),
    });
    render(<CharacterSyncProgress progress={progress} />);
    const live = screen.getByRole("status");
    expect(live.getAttribute("aria-live")).toBe("polite");
    expect(live.textContent).toBe("Sync complete: 3 of 3 characters, 1 failed.");
    expect(screen.getByTestId("sync-status").textContent).toBe("completed");
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
  });

  it("shows a failed session as failed", () => {
    const progress = applyEvent(initialProgress(SID), {
      type: "sync-error",
      data: { sessionId: SID, error: "expired" },
    });
    render(<CharacterSyncProgress progress={progress} />);
    expect(screen.getByTestId("sync-status").textContent).toBe("failed");
    expect(screen.getByRole("status").textContent).toBe("Sync failed: expired.");
  });
});

describe("applyEvent", () => {
  it("never goes back: an older state after a newer event changes nothing", () => {
    let progress = initialProgress(SID);
    progress = applyEvent(progress, { type: "sync-progress", data: progressData(2, 4) });
    const again = applyEvent(progress, { type: "sync-progress", data: progressData(1, 4) });
    expect(again).toBe(progress);
    const done = applyEvent(progress, { type: "sync-complete", data: completeData(4) });
    expect(applyEvent(done, { type: "sync-progress", data: progressData(3, 4) })).toBe(done);
  });

  it("ignores events of another session", () => {
    const progress = initialProgress(SID);
    expect(applyEvent(progress, { type: "sync-complete", data: completeData(1, 0, "other") })).toBe(
      progress,
    );
  });
});
