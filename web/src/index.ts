// What an app imports: the framework-free client, the hook, the progress component, types.

export { ApiError, ErrorCodes, GuildSyncClient, type GuildSyncClientOptions } from "./api";
export { followSse, type FollowOptions, type SessionHandlers, type Subscription } from "./events";
export {
  followRealtime,
  topicFor,
  type RealtimeSource,
  type RealtimeChannelLike,
} from "./realtime";
export { applyEvent, initialProgress, type CharacterProgress, type SyncProgress } from "./progress";
export {
  useCharacterSync,
  type CharacterSync,
  type UseCharacterSyncOptions,
} from "./useCharacterSync";
export { CharacterSyncProgress, type CharacterSyncProgressProps } from "./CharacterSyncProgress";
export { describeError } from "./messages";
export * from "./types";
