/** A stored notification as the server sends it (PROTOCOL.md §2). */
export interface Notification {
  id: string;
  user_id: string;
  type: string;
  title: string;
  content: string;
  link?: string | null;
  source?: string | null;
  severity: "info" | "success" | "warning" | "error" | string;
  status: "unread" | "read" | string;
  created_at: string;
  read_at?: string | null;
  metadata?: Record<string, unknown> | null;
  /** When a client reported it shown; the badge counts unseen notifications. Separate from `read_at`. */
  seen_at?: string | null;
  /** Set while archived (archived notifications leave the default list). */
  archived_at?: string | null;
  /** Set while snoozed: it comes back unread at this time. */
  snoozed_until?: string | null;
}

/** How a notification type reaches the user on a channel (docs/api.md#preferences). */
export type DeliveryMode = "live" | "inbox" | "off";

/** A daily window (`HH:mm`, IANA time zone) during which `live` acts as `inbox`. */
export interface QuietHours {
  start: string;
  end: string;
  time_zone: string;
}

/** The body of `PUT /api/me/preferences`: type (or `*`) → channel (`in_app`) → mode. */
export interface PreferencesInput {
  types?: Record<string, Partial<Record<string, DeliveryMode>>>;
  quiet_hours?: QuietHours | null;
}

/** Preferences as the Api answers them; send `version` back as `ifMatch`. */
export interface Preferences {
  version: number;
  updated_at: string | null;
  types: Record<string, Partial<Record<string, DeliveryMode>>>;
  quiet_hours: QuietHours | null;
  /** The admin's defaults that apply where the user chose nothing (null on the defaults themselves). */
  defaults: Record<string, Partial<Record<string, DeliveryMode>>> | null;
  /** The channels a preference may name (today `in_app`). */
  channels: string[];
}

/** A publication on a channel, or a broadcast (`message` frame). */
export interface ChannelMessage {
  channel: string;
  /** The stream offset inside the channel; resume a subscription after it. */
  id: string;
  payload: unknown;
  created_at: string;
}

/** The `connected` frame's data: the first frame of every stream. */
export interface ConnectedInfo {
  user_id?: string;
  connection_id?: string;
  server_time?: string;
  heartbeat_interval_s?: number;
  unread_count?: number;
}

/** A task's progress snapshot (PROTOCOL.md §4). */
export interface TaskProgress {
  task_id: string;
  status: string;
  message?: string | null;
  step?: number;
  total_steps?: number;
  /** 0–100. */
  progress: number;
  elapsed_s?: number;
  eta_s?: number | null;
  timestamp?: string;
  [key: string]: unknown;
}

/** A batch's aggregated progress (PROTOCOL.md §5). */
export interface BatchProgress {
  batch_id?: string;
  total: number;
  completed: number;
  failed: number;
  running: number;
  queued: number;
  /** 0–100. */
  progress: number;
  [key: string]: unknown;
}

/** Every frame on the wire is `{ type, data }`; heartbeats and pongs carry `timestamp` at the top. */
export interface Frame {
  type: string;
  data?: any;
  timestamp?: string;
  channel?: string;
  /** SSE only: the event's `id:` line. */
  eventId?: string;
}

export type TransportKind = "websocket" | "sse" | "polling";

export type ConnectionState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

/** Emitted as `connection` on every state change. */
export interface ConnectionEvent {
  state: ConnectionState;
  previous: ConnectionState;
  /** The transport in use (or being tried). */
  transport: TransportKind | null;
  /** Consecutive failed attempts since the last successful connect. */
  attempt: number;
  /** The close code that caused this change, when there was one. */
  code?: number;
  reason?: string;
  /** When state is `reconnecting`: the wait before the next attempt. */
  delayMs?: number;
}

export interface ResyncEvent {
  reason: string;
}

export interface ServerError {
  code: string;
  message: string;
}

/** Events of {@link NotifyClient}. */
export interface NotifyEvents {
  /** A notification for this user, live or replayed; never the same id twice. */
  notification: Notification;
  /** A channel publication or a broadcast; never the same channel/id twice. */
  message: ChannelMessage;
  connection: ConnectionEvent;
  connected: ConnectedInfo & { transport: TransportKind };
  /** The unread count as announced by the server (`connected`, `unread_count` frames) or after a REST reload; `unseen` when the frame carries it. */
  unread_count: { count: number; unseen?: number };
  /** A notification was marked seen (`seen` frame, or {@link NotifyClient.markSeen}). */
  seen: { id: string };
  /** A notification was archived (`archived: true`) or unarchived (`archived` / `unarchived` frames). */
  archived: { id: string; archived: boolean };
  /** A notification was snoozed until `until`, or its snooze cleared (`until` null). */
  snoozed: { id: string; until: string | null };
  /** A bulk action changed `updated` notifications: reload the list. */
  bulk: { action: string; updated: number };
  /** The user's preferences changed (another tab or device). */
  preferences: { version: number };
  /** The server could not replay the gap; the client reloaded through REST (`reload` holds the newest page). */
  resync: ResyncEvent & { reload?: Notification[] };
  /** A notification was marked read: by this client, or elsewhere (`read` / `read_all` frames from the server). */
  read: { id?: string; all?: boolean };
  /** A notification was deleted elsewhere (`deleted` frame). */
  deleted: { id: string };
  subscribed: { channel: string };
  unsubscribed: { channel: string };
  /** A server `error` frame (the connection stays open) or a client-side failure. */
  error: ServerError;
  /** Progress of any task watched with `watchTask` (also on the watch itself). */
  progress: TaskProgress;
  /** Progress of any batch watched with `watchBatch`. */
  batch_progress: BatchProgress;
  /** Every raw frame, after de-duplication, for debugging and custom frame types. */
  frame: Frame;
}
