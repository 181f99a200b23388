// Hash routes of the page: #/characters/123, #/characters/123/compare, #/guilds/5,
// #/preferences; anything else (no hash, or the login's #access_token=...) is the home page.

import { useEffect, useState } from "react";

export type Route =
  | { name: "home" }
  | { name: "character"; id: number }
  | { name: "compare"; id: number }
  | { name: "guild"; id: number }
  | { name: "preferences" }
  | { name: "unknown"; path: string };

export function parseRoute(hash: string): Route {
  if (!hash.startsWith("#/")) return { name: "home" };
  const path = hash.slice(1).split("?", 1)[0] ?? "/";
  if (path === "/" || path === "") return { name: "home" };
  if (path === "/preferences") return { name: "preferences" };
  const match = /^\/(characters|guilds)\/(\d{1,15})(\/compare)?\/?$/.exec(path);
  if (match) {
    const id = Number(match[2]);
    if (match[1] === "guilds") return match[3] ? { name: "unknown", path } : { name: "guild", id };
    return { name: match[3] ? "compare" : "character", id };
  }
  return { name: "unknown", path };
}

export const href = {
  home: "#/",
  character: (id: number) => `#/characters/${id}`,
  compare: (id: number) => `#/characters/${id}/compare`,
  guild: (id: number) => `#/guilds/${id}`,
  preferences: "#/preferences",
};

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", follow);
    follow();
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}
