/**
 * HTTP response bodies read with a size cap (issue 13 item 1). An endpoint controls how much it sends;
 * `Response.text()` would buffer all of it. Here a declared Content-Length above the cap is refused
 * before any body byte is read, and otherwise the body is streamed through its reader and the request
 * aborted (its AbortController) as soon as the bytes read pass the cap, so memory stays bounded by the
 * cap whatever the endpoint sends. Web APIs only (fetch, ReadableStream, AbortController): runs in
 * browsers, Workers and Node alike.
 *
 * - {@link readBodyCapped}: the bytes of a Response, at most `maxBytes`.
 * - {@link cappedFetch}: a fetch whose responses come back already read under the cap (for viem's http
 *   transport, which reads bodies itself).
 */
import { ResponseTooLargeError } from './errors.js';

export { ResponseTooLargeError };

/** The declared Content-Length, or undefined when absent or not a plain number. */
function declaredLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v) : undefined;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * The body of `res`, at most `maxBytes` of it. Over the cap (declared or read): `abort()` (the
 * request's AbortController, so the connection stops), the reader is cancelled, and ResponseTooLargeError
 * is thrown. Other read errors propagate as they are.
 */
export async function readBodyCapped(
  res: Response,
  url: string,
  maxBytes: number,
  abort: () => void,
): Promise<Uint8Array> {
  const declared = declaredLength(res);
  if (declared !== undefined && declared > maxBytes) {
    abort();
    await res.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(url, maxBytes, declared);
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(chunks, total);
    total += value.length;
    if (total > maxBytes) {
      abort();
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(url, maxBytes, undefined);
    }
    chunks.push(value);
  }
}

/** The URL a fetch was asked for, as text. */
function urlOf(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

/** Statuses a Response may not be constructed with a body for. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * `fetchImpl` with every response body read under `maxBytes` and handed back as a fresh Response of
 * those bytes (same status and headers). The caller's `signal` still aborts the request.
 */
export function cappedFetch(fetchImpl: typeof fetch, maxBytes: number): typeof fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal;
    const onAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onAbort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await fetchImpl(input, { ...init, signal: controller.signal });
      const body = await readBodyCapped(res, urlOf(input), maxBytes, () => controller.abort());
      const head: ResponseInit = { status: res.status, statusText: res.statusText, headers: res.headers };
      return new Response(NULL_BODY_STATUS.has(res.status) ? null : (body as Uint8Array<ArrayBuffer>), head);
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
  };
}
