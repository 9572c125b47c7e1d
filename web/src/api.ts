// The v1 API as the dashboard uses it: one fetch wrapper that carries the session's token and
// turns the API's JSON errors into ApiError (whose message is the API's own), and the event
// stream read over fetch (EventSource cannot send an Authorization header, and a token in a
// URL would end up in logs).

export interface Session {
  token: string;
  user: { id: number; name: string };
  project: { id: number; name: string };
  role: string;
  cloud_admin: boolean;
  expires_at: string;
  actions?: string[];  // the VM actions this role may ask (the server's policy table)
}

const kSessionKey = 'corral.session';

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string,
              readonly body: unknown) {
    super(message);
  }
}

let session: Session | null = (() => {
  try {
    const text = sessionStorage.getItem(kSessionKey);
    return text ? (JSON.parse(text) as Session) : null;
  } catch {
    return null;
  }
})();
const sessionListeners: Array<(s: Session | null) => void> = [];

export function currentSession(): Session | null { return session; }
export function onSessionChange(listener: (s: Session | null) => void): void {
  sessionListeners.push(listener);
}
function setSession(next: Session | null): void {
  session = next;
  if (next) sessionStorage.setItem(kSessionKey, JSON.stringify(next));
  else sessionStorage.removeItem(kSessionKey);
  for (const listener of sessionListeners) listener(next);
}

async function errorOf(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return new ApiError(response.status, error?.code ?? 'http_' + response.status,
                      error?.message ?? `${response.status} ${response.statusText}`, body);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && session && path !== '/v1/auth/tokens') {
    setSession(null);  // expired or revoked: back to the login form
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body: unknown) => request<T>('POST', path, body);

export async function login(user: string, password: string, project: string): Promise<Session> {
  const body: Record<string, string> = { user, password };
  if (project) body.project = project;
  const s = await request<Session>('POST', '/v1/auth/tokens', body);
  setSession(s);
  return s;
}

export async function logout(): Promise<void> {
  try { await request('DELETE', '/v1/auth/token'); } catch { /* gone already */ }
  setSession(null);
}

export interface StreamEvent { event: string; id: string | null; data: string }

// Reads GET `path` (text/event-stream) until `signal` aborts, calling `onEvent` for each event;
// reconnects after a drop, resuming from the last id (Last-Event-ID), and calls `onGap` once
// per reconnection (after a drop, or the server dropping a slow reader), so the caller can
// reread what it shows.
export async function followEvents(path: string, signal: AbortSignal,
                                   onEvent: (e: StreamEvent) => void,
                                   onGap: () => void): Promise<void> {
  let lastId: string | null = null;
  let first = true;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' };
      if (session) headers.Authorization = `Bearer ${session.token}`;
      if (lastId) headers['Last-Event-ID'] = lastId;
      const response = await fetch(path, { headers, signal });
      if (response.status === 401) { setSession(null); return; }
      if (!response.ok || !response.body) throw await errorOf(response);
      if (!first) onGap();
      first = false;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const e: StreamEvent = { event: 'message', id: null, data: '' };
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') e.event = text;
            else if (field === 'data') data.push(text);
            else if (field === 'id') e.id = text;
          }
          if (data.length === 0) continue;
          e.data = data.join('\n');
          if (e.id) lastId = e.id;
          if (e.event === 'dropped') { lastId = null; continue; }  // reread on reconnecting
          onEvent(e);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status < 500) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
