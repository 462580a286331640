/**
 * Request bodies, read as a stream with a byte cap: a body over the cap is refused as soon as the
 * cap is crossed (its `Content-Length` is not trusted, and a chunked body has none), so an oversize
 * request never buffers more than the cap.
 */
import { EdgeRequestError } from './errors.js';

/** 1 MiB: a 2017-header retarget span is ~330 KB of JSON, the largest input a verify kind needs. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The body's bytes, or an `edge.body-too-large` (400: unusable input) past `limit`. */
export async function readBodyCapped(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return concat(chunks, size);
}

/** The body parsed as JSON (UTF-8), or an `edge.bad-json` (400). */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const bytes = await readBodyCapped(request, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new EdgeRequestError('edge.bad-json', 400, 'the request body is not UTF-8 text', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new EdgeRequestError('edge.bad-json', 400, `the request body is not JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
}

function tooLarge(limit: number): EdgeRequestError {
  return new EdgeRequestError('edge.body-too-large', 400, `the request body is larger than ${limit} bytes`, {
    hint: 'send one input per request',
  });
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
