export { NotifyClient, type NotifyClientOptions } from "./client.js";
export { NotifyRest, NotifyHttpError, type RestOptions, type ListQuery, type Page, type CreateNotification, type Broadcast, type WsStats, type TaskSnapshot, type BatchSnapshot, type SuppressedNotification, type BulkAction, type BulkResult, type PushSubscriptionInput, type StoredPushSubscription } from "./rest.js";
export { Backoff, type BackoffOptions } from "./backoff.js";
export { DedupeSet, compareIds } from "./dedupe.js";
export { Emitter } from "./emitter.js";
export { systemClock, type Clock } from "./clock.js";
export { FetchEventSource, SseParser, type EventSourceLike, type EventSourceConstructor } from "./sse.js";
export {
  CloseCodes,
  webSocketTransport,
  sseTransport,
  pollingTransport,
  parseFrame,
  sseFrame,
  type TransportFactory,
  type TransportConnection,
  type TransportHandlers,
  type TransportRequest,
} from "./transports.js";
export { TaskWatch, BatchWatch, type WatchOptions, type TaskWatchEvents, type BatchWatchEvents } from "./watch.js";
export type * from "./types.js";
