// What every view shares: loading, errors in words (with "Log in again"), the 404 page, dates.

import { useEffect, useState, type ReactNode } from "react";

import { asApiError, type ApiError, type GuildSyncClient } from "../api";
import { describeError } from "../messages";
import { href } from "../route";

export interface ViewProps {
  client: GuildSyncClient;
  /** Sends the browser to the Battle.net login (an expired session). */
  onLogin: () => void;
}

export type Loaded<T> =
  { state: "loading" } | { state: "error"; error: ApiError } | { state: "done"; value: T };

/** Runs `load` when `key` changes; its latest result. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    let live = true;
    setLoaded({ state: "loading" });
    load().then(
      (value) => live && setLoaded({ state: "done", value }),
      (caught: unknown) => live && setLoaded({ state: "error", error: asApiError(caught) }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  return loaded;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" data-testid="loading">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, onLogin }: { error: ApiError; onLogin: () => void }) {
  const advice = describeError(error);
  return (
    <div className="error" role="alert" data-testid="error-message">
      <span>{advice.text}</span>
      {advice.action === "login" && (
        <button type="button" className="primary" onClick={onLogin}>
          Log in again
        </button>
      )}
    </div>
  );
}

export function NotFound({ what }: { what: string }) {
  return (
    <section className="card" data-testid="not-found" aria-labelledby="not-found-title">
      <h2 id="not-found-title">Not found</h2>
      <p>
        This {what} does not exist or is not yours to see.{" "}
        <a href={href.home}>Back to your characters</a>
      </p>
    </section>
  );
}

/** A failure shown as the 404 page when it is one, else in words. */
export function Failure({
  error,
  what,
  onLogin,
}: {
  error: ApiError;
  what: string;
  onLogin: () => void;
}) {
  if (error.status === 404) return <NotFound what={what} />;
  return <ErrorBox error={error} onLogin={onLogin} />;
}

export function BackLink({ to = href.home, children }: { to?: string; children?: ReactNode }) {
  return (
    <nav className="crumbs" aria-label="Breadcrumb">
      <a href={to} data-testid="back-link">
        ← {children ?? "Your characters"}
      </a>
    </nav>
  );
}

const DATE = new Intl.DateTimeFormat("en", { dateStyle: "medium" });
const DATE_TIME = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export function formatDate(value: string | number | null | undefined, withTime = false): string {
  if (value === null || value === undefined) return "—";
  const at = typeof value === "number" ? value : Date.parse(value);
  if (Number.isNaN(at)) return "—";
  return (withTime ? DATE_TIME : DATE).format(at);
}

export function Avatar({
  name,
  url,
  size = 56,
}: {
  name: string;
  url: string | null;
  size?: number;
}) {
  const [broken, setBroken] = useState(false);
  if (url && !broken) {
    return (
      <img
        className="avatar"
        src={url}
        alt=""
        width={size}
        height={size}
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
