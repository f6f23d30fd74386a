// The API client. The token lives in sessionStorage (gone when the tab
// closes) and goes with every request as a bearer token; errors are the
// API's problem documents, thrown as ApiError.

const KEY = 'queuelake.token';

/** The token signed in with, or null. */
export function token() {
  return sessionStorage.getItem(KEY);
}

/** Keeps `value` as the token. */
export function setToken(value) {
  sessionStorage.setItem(KEY, value);
}

/** Forgets the token. */
export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** A refused or failed request: its status and the problem's detail. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function send(path, { method = 'GET', body } = {}) {
  const headers = { authorization: `Bearer ${token() || ''}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = { detail: `${response.status} ${response.statusText}` };
    }
    if (response.status === 401) {
      window.dispatchEvent(new CustomEvent('queuelake:signed-out', { detail: problem.detail }));
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

/** The JSON answer of `path`. */
export async function api(path, options) {
  const response = await send(path, options);
  return response.json();
}

/** The answer of `path` as a Blob (CSV, report files). */
export async function apiBlob(path, options) {
  const response = await send(path, options);
  return response.blob();
}

/** Saves `blob` as a file called `name` (a download in the browser). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/**
 * Follows the server-sent events of `path` (read with fetch, so the token
 * goes in a header), calling `onEvent(name, data)` for each and
 * `onStatus(text)` when the link drops or comes back; reconnects after
 * two seconds until `signal` aborts.
 */
export async function followEvents(path, onEvent, onStatus, signal) {
  while (!signal.aborted) {
    try {
      const response = await send(path, { method: 'GET' });
      onStatus('live');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let name = 'message';
          const data = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) name = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length) onEvent(name, data.join('\n'));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        onStatus(error.message);
        return;
      }
    }
    if (signal.aborted) return;
    onStatus('reconnecting');
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
