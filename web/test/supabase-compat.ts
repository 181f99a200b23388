// Type-level check (run by `tsc --noEmit` in `npm test`): a real supabase-js client is a
// RealtimeSource, so an app passes its client to useCharacterSync({ realtime }) as is.
import type { SupabaseClient } from "@supabase/supabase-js";

import type { RealtimeSource } from "../src/realtime";

export function asRealtimeSource(client: SupabaseClient): RealtimeSource {
  return client;
}
