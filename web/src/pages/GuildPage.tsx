// A guild's members across its connected-realm group: rank, level, class, realm, last seen;
// sortable and filterable; the user's own characters marked.

import { useMemo, useState } from "react";

import type { Guild, GuildMember } from "../model";
import { href } from "../route";
import { rankName } from "./CharacterPage";
import { BackLink, Failure, Loading, formatDate, useLoad, type ViewProps } from "./common";

export type SortKey = "name" | "rank" | "level" | "class" | "realm" | "lastSeen";
const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "name", label: "Name" },
  { key: "rank", label: "Rank" },
  { key: "level", label: "Level" },
  { key: "class", label: "Class" },
  { key: "realm", label: "Realm" },
  { key: "lastSeen", label: "Last seen" },
];

/** When the member was last seen: its last login, else its last roster sighting. */
export function lastSeen(m: GuildMember): string | null {
  return m.lastLoginAt ?? m.lastSeenInRosterAt ?? null;
}

function sortValue(m: GuildMember, key: SortKey): string | number | null {
  switch (key) {
    case "name":
      return m.name.toLowerCase();
    case "rank":
      return m.rank;
    case "level":
      return m.level;
    case "class":
      return m.class?.toLowerCase() ?? null;
    case "realm":
      return m.realm.toLowerCase();
    case "lastSeen": {
      const at = lastSeen(m);
      return at ? Date.parse(at) : null;
    }
  }
}

/** Members filtered by name, class or realm, sorted by a column (unknown values last). */
export function sortMembers(
  members: readonly GuildMember[],
  key: SortKey,
  descending: boolean,
  filter = "",
): GuildMember[] {
  const needle = filter.trim().toLowerCase();
  const kept = needle
    ? members.filter((m) =>
        [m.name, m.class ?? "", m.realm].some((v) => v.toLowerCase().includes(needle)),
      )
    : [...members];
  return kept.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null)
      return x === y ? a.name.localeCompare(b.name) : x === null ? 1 : -1;
    const order = x < y ? -1 : x > y ? 1 : a.name.localeCompare(b.name);
    return descending ? -order : order;
  });
}

export function GuildPage({ client, onLogin, id }: ViewProps & { id: number }) {
  const loaded = useLoad(() => client.guild(id), `guild:${id}`);
  return (
    <div className="view" data-testid="guild-page">
      <BackLink />
      {loaded.state === "loading" && <Loading what="the guild" />}
      {loaded.state === "error" && <Failure error={loaded.error} what="guild" onLogin={onLogin} />}
      {loaded.state === "done" && <GuildView guild={loaded.value} />}
    </div>
  );
}

export function GuildView({ guild }: { guild: Guild }) {
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({
    key: "rank",
    descending: false,
  });
  const [filter, setFilter] = useState("");
  const shown = useMemo(
    () => sortMembers(guild.members, sort.key, sort.descending, filter),
    [guild.members, sort, filter],
  );
  const realms = new Set(guild.members.map((m) => m.realm));
  return (
    <section aria-labelledby="guild-title">
      <h2 id="guild-title" data-testid="guild-name">
        &lt;{guild.name}&gt;
      </h2>
      <p className="muted">
        {guild.realm} · {guild.members.length} members
        {realms.size > 1 && <> across {realms.size} connected realms</>}
      </p>
      {guild.members.length === 0 ? (
        <p className="muted" data-testid="guild-empty">
          No members known yet: the roster is read once a day.
        </p>
      ) : (
        <>
          <label className="filter">
            Filter by name, class or realm{" "}
            <input
              type="search"
              data-testid="guild-filter"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
          </label>
          <div className="table-wrap">
            <table className="members" data-testid="guild-members">
              <caption className="visually-hidden">
                Members, sorted by {COLUMNS.find((c) => c.key === sort.key)?.label}
                {sort.descending ? ", descending" : ", ascending"}
              </caption>
              <thead>
                <tr>
                  {COLUMNS.map((c) => (
                    <th
                      key={c.key}
                      scope="col"
                      aria-sort={
                        sort.key === c.key ? (sort.descending ? "descending" : "ascending") : "none"
                      }
                    >
                      <button
                        type="button"
                        className="sort-button"
                        data-testid={`sort-${c.key}`}
                        onClick={() =>
                          setSort((s) => ({
                            key: c.key,
                            descending: s.key === c.key ? !s.descending : false,
                          }))
                        }
                      >
                        {c.label}
                        <span aria-hidden="true">
                          {sort.key === c.key ? (sort.descending ? " ▼" : " ▲") : ""}
                        </span>
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((m) => (
                  <tr
                    key={m.id}
                    data-testid="guild-member"
                    data-mine={m.mine ? "true" : "false"}
                    className={m.mine ? "members__mine" : undefined}
                  >
                    <td>
                      {m.mine ? <a href={href.character(m.id)}>{m.name}</a> : m.name}
                      {m.mine && (
                        <span className="badge badge--mine" data-testid="mine-badge">
                          yours
                        </span>
                      )}
                    </td>
                    <td>{rankName(m.rank) || "—"}</td>
                    <td>{m.level ?? "—"}</td>
                    <td>{m.class ?? "—"}</td>
                    <td>{m.realm}</td>
                    <td>{formatDate(lastSeen(m))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {shown.length === 0 && (
            <p className="muted" data-testid="guild-filter-empty">
              No member matches “{filter}”.
            </p>
          )}
        </>
      )}
    </section>
  );
}
