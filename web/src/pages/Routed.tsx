// The view a hash route names (the home page stays in App.tsx).

import type { Route } from "../route";
import { CharacterPage } from "./CharacterPage";
import { NotFound, type ViewProps } from "./common";
import { ComparePage } from "./ComparePage";
import { GuildPage } from "./GuildPage";
import { PreferencesPage } from "./PreferencesPage";

export function RoutedPage({ route, ...props }: ViewProps & { route: Route }) {
  switch (route.name) {
    case "character":
      return <CharacterPage key={route.id} {...props} id={route.id} />;
    case "compare":
      return <ComparePage key={route.id} {...props} id={route.id} />;
    case "guild":
      return <GuildPage key={route.id} {...props} id={route.id} />;
    case "preferences":
      return <PreferencesPage {...props} />;
    case "home":
      return null;
    default:
      return <NotFound what="page" />;
  }
}
