/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Guild Sync's gateway when the page is not served by it (default: the page's origin). */
  readonly VITE_GUILD_SYNC_URL?: string;
}
