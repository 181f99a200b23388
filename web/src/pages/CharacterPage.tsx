// A character's page: header (avatar, level, race, class, realm, guild and rank), the level and
// item level timeline, the list of changes, the current equipment and the talents.

import type { GuildSyncClient } from "../api";
import { ApiError } from "../errors";
import { chartData } from "../chart";
import { slotName, sortBySlot } from "../diff";
import type {
  CharacterHistory,
  EquipmentSnapshot,
  HistoryChange,
  SnapshotList,
  TalentSnapshot,
} from "../model";
import { href } from "../route";
import type { Character } from "../types";
import { HistoryChart } from "./HistoryChart";
import { Avatar, BackLink, Failure, Loading, formatDate, useLoad, type ViewProps } from "./common";

export interface CharacterPageData {
  character: Character;
  history: CharacterHistory;
  equipment: SnapshotList;
  talents: SnapshotList;
  currentEquipment: EquipmentSnapshot | null;
  currentTalents: TalentSnapshot | null;
}

/** Everything the page shows; a 404 ApiError when the character is not the user's. */
export async function loadCharacterPage(
  client: GuildSyncClient,
  id: number,
): Promise<CharacterPageData> {
  const [characters, history, equipment, talents] = await Promise.all([
    client.listCharacters(),
    client.history(id),
    client.snapshots(id, "equipment"),
    client.snapshots(id, "talents"),
  ]);
  const character = characters.find((c) => c.id === id);
  if (!character) throw new ApiError(404, "not_found", "no such character");
  const [currentEquipment, currentTalents] = await Promise.all([
    equipment.snapshots[0] ? client.snapshot(id, equipment.snapshots[0].id) : null,
    talents.snapshots[0] ? client.snapshot(id, talents.snapshots[0].id) : null,
  ]);
  return {
    character,
    history,
    equipment,
    talents,
    currentEquipment: currentEquipment as EquipmentSnapshot | null,
    currentTalents: currentTalents as TalentSnapshot | null,
  };
}

export const RANK_NAMES: Record<number, string> = { 0: "Guild Master" };
export const rankName = (rank: number | null | undefined): string =>
  rank === null || rank === undefined ? "" : (RANK_NAMES[rank] ?? `Rank ${rank}`);

export function CharacterPage({ client, onLogin, id }: ViewProps & { id: number }) {
  const loaded = useLoad(() => loadCharacterPage(client, id), `character:${id}`);
  return (
    <div className="view" data-testid="character-page">
      <BackLink />
      {loaded.state === "loading" && <Loading what="the character" />}
      {loaded.state === "error" && (
        <Failure error={loaded.error} what="character" onLogin={onLogin} />
      )}
      {loaded.state === "done" && <CharacterView data={loaded.value} />}
    </div>
  );
}

export function CharacterView({ data, now }: { data: CharacterPageData; now?: number }) {
  const c = data.character;
  const chart = chartData(data.history.changes, { level: c.level, itemLevel: c.itemLevel }, now);
  const describe = [c.level !== null ? `Level ${c.level}` : null, c.race, c.class]
    .filter(Boolean)
    .join(" ");
  const canCompare = data.equipment.snapshots.length >= 2 || data.talents.snapshots.length >= 2;
  return (
    <>
      <header className="card character-header" data-testid="character-header">
        <Avatar name={c.name} url={c.avatarUrl} size={72} />
        <div>
          <h2 className="character-header__name">
            {c.name}
            {!c.isActive && <span className="badge">archived</span>}
          </h2>
          <div data-testid="character-summary">{describe || "Level unknown"}</div>
          <div className="muted">
            {c.realm} ({c.region.toUpperCase()})
            {c.itemLevel !== null && <> · item level {c.itemLevel}</>}
          </div>
          <div>
            {c.guild ? (
              <>
                <a href={href.guild(c.guild.id)} data-testid="guild-link">
                  {`<${c.guild.name}>`}
                </a>
                {c.guild.rank !== undefined && c.guild.rank !== null && (
                  <span className="muted"> · {rankName(c.guild.rank)}</span>
                )}
              </>
            ) : (
              <span className="muted" data-testid="no-guild">
                No guild
              </span>
            )}
          </div>
        </div>
      </header>

      <section aria-labelledby="timeline-title">
        <h3 id="timeline-title">Level and item level</h3>
        {chart ? (
          <HistoryChart data={chart} />
        ) : (
          <p className="muted" data-testid="history-empty">
            No level or item level change recorded yet: the timeline starts at the next change.
          </p>
        )}
      </section>

      <section aria-labelledby="changes-title">
        <h3 id="changes-title">Changes</h3>
        {data.history.changes.length === 0 ? (
          <p className="muted" data-testid="changes-empty">
            No changes yet.
          </p>
        ) : (
          <ol className="change-list" data-testid="change-list">
            {data.history.changes.map((change, i) => (
              <li
                key={`${change.observedAt}-${i}`}
                data-testid="change-item"
                data-field={change.field}
              >
                <time dateTime={change.observedAt} className="muted">
                  {formatDate(change.observedAt, true)}
                </time>{" "}
                <ChangeText change={change} characterId={c.id} />
              </li>
            ))}
          </ol>
        )}
      </section>

      <section aria-labelledby="equipment-title">
        <div className="section-head">
          <h3 id="equipment-title">Equipment</h3>
          {canCompare && (
            <a href={href.compare(c.id)} data-testid="compare-link">
              Compare snapshots
            </a>
          )}
        </div>
        {data.currentEquipment ? (
          <>
            <p className="muted">As of {formatDate(data.currentEquipment.takenAt, true)}</p>
            <ul className="equipment" data-testid="equipment-list">
              {sortBySlot(data.currentEquipment.items).map((item) => (
                <li
                  key={item.slot}
                  className="equipment__slot"
                  data-testid="equipment-slot"
                  data-slot={item.slot}
                >
                  <span className="muted equipment__slot-name">{slotName(item.slot)}</span>
                  <span className={`quality quality--${(item.quality ?? "common").toLowerCase()}`}>
                    {item.name ?? `Item ${item.itemId}`}
                  </span>
                  <span className="equipment__ilvl">{item.itemLevel ?? "—"}</span>
                  {(item.enchantments.length > 0 || item.gems.length > 0) && (
                    <span className="muted equipment__extra">
                      {[
                        ...item.enchantments.map((e) => e.description ?? "enchanted"),
                        ...item.gems.map((g) => g.name ?? "gem"),
                      ].join(" · ")}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p className="muted" data-testid="equipment-empty">
            No equipment snapshot yet: one is taken when the character is refreshed after playing.
          </p>
        )}
      </section>

      <section aria-labelledby="talents-title">
        <h3 id="talents-title">Talents</h3>
        {data.currentTalents ? (
          <div data-testid="talents">
            <p>
              <strong>{data.currentTalents.spec ?? "No specialization"}</strong>
              <span className="muted"> · {data.currentTalents.talents.length} talents</span>
            </p>
            {data.currentTalents.loadoutCode && (
              <p>
                <label htmlFor="loadout-code">Loadout code</label>
                <input
                  id="loadout-code"
                  className="loadout-code"
                  data-testid="loadout-code"
                  readOnly
                  value={data.currentTalents.loadoutCode}
                  onFocus={(e) => e.currentTarget.select()}
                />
              </p>
            )}
            <ul className="talents">
              {data.currentTalents.talents.map((t) => (
                <li key={`${t.tree}-${t.id}`}>
                  {t.name ?? `Talent ${t.id}`}
                  {t.rank !== null && t.rank > 1 && <span className="muted"> ({t.rank})</span>}
                  <span className="muted"> · {t.tree}</span>
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <p className="muted" data-testid="talents-empty">
            No talent snapshot yet.
          </p>
        )}
      </section>
    </>
  );
}

const value = (v: HistoryChange["from"]): string => (v === null ? "none" : String(v));

/** A change in words; a transfer links to the other row. */
export function ChangeText({
  change,
  characterId,
}: {
  change: HistoryChange;
  characterId: number;
}) {
  const { from, to } = change;
  switch (change.field) {
    case "name":
      return (
        <>
          Renamed from {value(from)} to {value(to)}
        </>
      );
    case "realm":
      return (
        <>
          Moved from realm {value(from)} to {value(to)}
        </>
      );
    case "level":
      return (
        <>
          Level {value(from)} → {value(to)}
        </>
      );
    case "itemLevel":
      return (
        <>
          Item level {value(from)} → {value(to)}
        </>
      );
    case "guild":
      if (from === null) return <>Joined &lt;{value(to)}&gt;</>;
      if (to === null) return <>Left &lt;{value(from)}&gt;</>;
      return (
        <>
          Moved from &lt;{value(from)}&gt; to &lt;{value(to)}&gt;
        </>
      );
    case "rank":
      return (
        <>
          Guild rank {rankName(Number(from))} → {rankName(Number(to))}
        </>
      );
    case "faction":
      return (
        <>
          Faction changed from {value(from)} to {value(to)}
        </>
      );
    case "race":
      return (
        <>
          Race changed from {value(from)} to {value(to)}
        </>
      );
    case "active":
      return to ? <>Back on the account</> : <>Archived: no longer on the account</>;
    case "transfer": {
      const other = Number(from) === characterId ? Number(to) : Number(from);
      const words = Number(from) === characterId ? "Transferred to" : "Transferred from";
      return (
        <>
          {words}{" "}
          <a href={href.character(other)} data-testid="transfer-link">
            the character on its {Number(from) === characterId ? "new" : "old"} realm
          </a>
        </>
      );
    }
    default:
      return <>{String(change.field)} changed</>;
  }
}
