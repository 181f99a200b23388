// Two snapshots side by side (default: the last two): per-slot equipment changes (item, item
// level, enchantments, gems), and talent changes (spec, loadout, talents added or removed).

import { useEffect, useState } from "react";

import { asApiError, type ApiError, type GuildSyncClient } from "../api";
import { diffEquipment, diffTalents, slotName, talentsChanged, type ListChange } from "../diff";
import type {
  EquipmentSnapshot,
  EquippedItem,
  Snapshot,
  SnapshotKind,
  SnapshotList,
  SnapshotSummary,
  TalentSnapshot,
} from "../model";
import { href } from "../route";
import {
  BackLink,
  ErrorBox,
  Failure,
  Loading,
  formatDate,
  useLoad,
  type ViewProps,
} from "./common";

interface Lists {
  equipment: SnapshotList;
  talents: SnapshotList;
}

export function ComparePage({ client, onLogin, id }: ViewProps & { id: number }) {
  const lists = useLoad<Lists>(async () => {
    const [equipment, talents] = await Promise.all([
      client.snapshots(id, "equipment"),
      client.snapshots(id, "talents"),
    ]);
    return { equipment, talents };
  }, `compare:${id}`);
  return (
    <div className="view" data-testid="compare-page">
      <BackLink to={href.character(id)}>The character</BackLink>
      <h2>Compare snapshots</h2>
      {lists.state === "loading" && <Loading what="the snapshots" />}
      {lists.state === "error" && (
        <Failure error={lists.error} what="character" onLogin={onLogin} />
      )}
      {lists.state === "done" && (
        <>
          <KindCompare
            client={client}
            onLogin={onLogin}
            characterId={id}
            kind="equipment"
            snapshots={lists.value.equipment.snapshots}
          />
          <KindCompare
            client={client}
            onLogin={onLogin}
            characterId={id}
            kind="talents"
            snapshots={lists.value.talents.snapshots}
          />
        </>
      )}
    </div>
  );
}

function optionLabel(s: SnapshotSummary): string {
  const extra =
    s.itemLevel !== undefined ? ` · item level ${s.itemLevel}` : s.spec ? ` · ${s.spec}` : "";
  return `${formatDate(s.takenAt, true)}${extra}`;
}

/** Whole snapshots fetched once each. */
function useSnapshots(client: GuildSyncClient, characterId: number, ids: number[]) {
  const [cache, setCache] = useState<Map<number, Snapshot>>(new Map());
  const [error, setError] = useState<ApiError | null>(null);
  const key = ids.join(",");
  useEffect(() => {
    let live = true;
    const missing = ids.filter((i) => !cache.has(i));
    if (missing.length === 0) return;
    Promise.all(missing.map((i) => client.snapshot(characterId, i))).then(
      (found) => {
        if (!live) return;
        setCache((old) => new Map([...old, ...found.map((s) => [s.id, s] as const)]));
      },
      (caught: unknown) => live && setError(asApiError(caught)),
    );
    return () => {
      live = false;
    };
    // the ids are the key; the cache only grows
  }, [client, characterId, key]);
  return { cache, error };
}

interface KindProps {
  client: GuildSyncClient;
  onLogin: () => void;
  characterId: number;
  kind: SnapshotKind;
  snapshots: SnapshotSummary[];
}

function KindCompare({ client, onLogin, characterId, kind, snapshots }: KindProps) {
  const [before, setBefore] = useState<number | null>(snapshots[1]?.id ?? null);
  const [after, setAfter] = useState<number | null>(snapshots[0]?.id ?? null);
  const ids = [before, after].filter((x): x is number => x !== null);
  const { cache, error } = useSnapshots(client, characterId, ids);
  const title = kind === "equipment" ? "Equipment" : "Talents";
  const prefix = kind === "equipment" ? "compare" : "talents-compare";

  if (snapshots.length < 2) {
    return (
      <section aria-labelledby={`${prefix}-title`}>
        <h3 id={`${prefix}-title`}>{title}</h3>
        <p className="muted" data-testid={`${prefix}-empty`}>
          {snapshots.length === 0
            ? `No ${kind} snapshot yet.`
            : `Only one ${kind} snapshot so far: a second one is taken when it changes.`}
        </p>
      </section>
    );
  }
  const a = before !== null ? cache.get(before) : undefined;
  const b = after !== null ? cache.get(after) : undefined;
  return (
    <section aria-labelledby={`${prefix}-title`} className="compare">
      <h3 id={`${prefix}-title`}>{title}</h3>
      <div className="compare__pickers">
        <label>
          Before
          <select
            data-testid={`${prefix}-before`}
            value={before ?? ""}
            onChange={(e) => setBefore(Number(e.target.value))}
          >
            {snapshots.map((s) => (
              <option key={s.id} value={s.id}>
                {optionLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          After
          <select
            data-testid={`${prefix}-after`}
            value={after ?? ""}
            onChange={(e) => setAfter(Number(e.target.value))}
          >
            {snapshots.map((s) => (
              <option key={s.id} value={s.id}>
                {optionLabel(s)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && <ErrorBox error={error} onLogin={onLogin} />}
      {!error && (!a || !b) && <Loading what="the snapshots" />}
      {a && b && a.kind === "equipment" && b.kind === "equipment" && (
        <EquipmentDiffView before={a} after={b} />
      )}
      {a && b && a.kind === "talents" && b.kind === "talents" && (
        <TalentDiffView before={a} after={b} />
      )}
    </section>
  );
}

function itemLabel(item: EquippedItem | null): string {
  return item ? `${item.name ?? `Item ${item.itemId}`} (${item.itemLevel ?? "?"})` : "empty";
}

function ListChangeText({ what, change }: { what: string; change: ListChange }) {
  return (
    <div className="muted">
      {what}: {change.removed.length > 0 && <del>{change.removed.join(", ")}</del>}
      {change.removed.length > 0 && change.added.length > 0 && " → "}
      {change.added.length > 0 && <ins>{change.added.join(", ")}</ins>}
    </div>
  );
}

export function EquipmentDiffView({
  before,
  after,
}: {
  before: EquipmentSnapshot;
  after: EquipmentSnapshot;
}) {
  const changes = diffEquipment(before.items, after.items);
  if (changes.length === 0) {
    return (
      <p className="muted" data-testid="diff-none">
        The same equipment in both snapshots.
      </p>
    );
  }
  return (
    <table className="diff" data-testid="equipment-diff">
      <caption className="visually-hidden">Slots that changed</caption>
      <thead>
        <tr>
          <th scope="col">Slot</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={c.slot} data-testid="diff-slot" data-slot={c.slot} data-status={c.status}>
            <th scope="row">{slotName(c.slot)}</th>
            <td
              className={
                c.before ? `quality--${(c.before.quality ?? "common").toLowerCase()}` : "muted"
              }
            >
              {itemLabel(c.before)}
            </td>
            <td>
              <span
                className={
                  c.after ? `quality--${(c.after.quality ?? "common").toLowerCase()}` : "muted"
                }
              >
                {itemLabel(c.after)}
              </span>
              {c.itemLevel && c.itemLevel.from !== null && c.itemLevel.to !== null && (
                <span
                  className={
                    c.itemLevel.to > c.itemLevel.from ? "delta delta--up" : "delta delta--down"
                  }
                  data-testid="diff-ilvl"
                >
                  {" "}
                  {c.itemLevel.to > c.itemLevel.from ? "+" : ""}
                  {c.itemLevel.to - c.itemLevel.from}
                </span>
              )}
              {c.enchantments && <ListChangeText what="Enchant" change={c.enchantments} />}
              {c.gems && <ListChangeText what="Gems" change={c.gems} />}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TalentDiffView({
  before,
  after,
}: {
  before: TalentSnapshot;
  after: TalentSnapshot;
}) {
  const change = diffTalents(before, after);
  if (!talentsChanged(change)) {
    return (
      <p className="muted" data-testid="talents-diff-none">
        The same talents in both snapshots.
      </p>
    );
  }
  const name = (t: { name: string | null; id: number }) => t.name ?? `Talent ${t.id}`;
  return (
    <ul className="talent-diff" data-testid="talents-diff">
      {change.spec && (
        <li data-testid="talents-diff-spec">
          Specialization: {change.spec.from ?? "none"} → {change.spec.to ?? "none"}
        </li>
      )}
      {change.loadoutCode && <li data-testid="talents-diff-loadout">Loadout code changed</li>}
      {change.added.length > 0 && (
        <li data-testid="talents-diff-added">
          Added: <ins>{change.added.map(name).join(", ")}</ins>
        </li>
      )}
      {change.removed.length > 0 && (
        <li data-testid="talents-diff-removed">
          Removed: <del>{change.removed.map(name).join(", ")}</del>
        </li>
      )}
      {change.reranked.map((r) => (
        <li key={`${r.talent.tree}-${r.talent.id}`}>
          {name(r.talent)}: rank {r.from ?? "?"} → {r.to ?? "?"}
        </li>
      ))}
    </ul>
  );
}
