import { NotifyRest } from "../../clients/notify-js/src/index.js";

export interface Session {
  userId: string;
  admin: boolean;
  token: string;
  expiresAt: string;
}

const KEY = "notify.session";
const TTL_SECONDS = 3600;

/** The signed-in user, kept in localStorage so every tab of this origin shares it. */
export function loadSession(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function clearSession(): void {
  localStorage.removeItem(KEY);
}

/** Signs in with a development token (`POST /api/auth/dev-token`). */
export async function signIn(apiBase: string, userId: string, admin: boolean): Promise<Session> {
  const rest = new NotifyRest({ baseUrl: apiBase });
  const { token, expires_at } = await rest.devToken(userId, admin ? ["admin"] : [], TTL_SECONDS);
  const session: Session = { userId, admin, token, expiresAt: expires_at };
  localStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

/** A token that is valid for at least another minute; renews the dev token when it is not. */
export async function freshToken(apiBase: string, session: Session, force = false): Promise<string> {
  const expires = Date.parse(session.expiresAt);
  if (!force && Number.isFinite(expires) && expires - Date.now() > 60_000) return session.token;
  const renewed = await signIn(apiBase, session.userId, session.admin);
  session.token = renewed.token;
  session.expiresAt = renewed.expiresAt;
  return session.token;
}
