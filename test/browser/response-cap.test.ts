/**
 * The capped body reader in Chromium (issue 13 item 1): web APIs only. An endless ReadableStream body
 * is read up to the cap and no further (the stream is pulled on demand, so what was pulled is what
 * was read), the request is aborted and the stream cancelled; a declared Content-Length above the cap
 * is refused before a byte is pulled; cappedFetch hands back a Response of the bytes under the cap.
 * The Node suite (test/node/response-cap.test.ts) does the same over real HTTP.
 */
import { expect, it } from 'vitest';
import { cappedFetch, readBodyCapped, ResponseTooLargeError } from '../../src/node/sources/bounded-body.js';

const CHUNK = 16 * 1024;

/** A Response whose body never ends; `pulled()` says how many bytes the reader took. */
function endless(headers: Record<string, string> = {}) {
  let pulled = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        pulled += CHUNK;
        controller.enqueue(new Uint8Array(CHUNK));
      },
      cancel() {
        cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { res: new Response(body, { headers }), pulled: () => pulled, cancelled: () => cancelled };
}

it('an endless body: ResponseTooLargeError at the cap, the request aborted, the stream cancelled', async () => {
  const cap = 10 * CHUNK;
  const e = endless();
  let aborted = false;
  const err = await readBodyCapped(e.res, 'http://x', cap, () => (aborted = true)).catch((x: unknown) => x);
  expect(err).toBeInstanceOf(ResponseTooLargeError);
  expect((err as ResponseTooLargeError).code).toBe('source.response-too-large');
  expect(aborted).toBe(true);
  expect(e.cancelled()).toBe(true);
  expect(e.pulled()).toBeLessThanOrEqual(cap + 2 * CHUNK);
});

it('a Content-Length above the cap: refused before any byte is read', async () => {
  const e = endless({ 'content-length': String(1 << 30) });
  let aborted = false;
  const err = await readBodyCapped(e.res, 'http://x', CHUNK, () => (aborted = true)).catch((x: unknown) => x);
  expect((err as ResponseTooLargeError).declared).toBe(1 << 30);
  expect(aborted).toBe(true);
  expect(e.pulled()).toBe(0);
});

it('cappedFetch: a body under the cap comes back whole; an endless one is refused', async () => {
  const small = cappedFetch(async () => new Response('{"ok":true}', { status: 200 }), CHUNK);
  expect(await (await small('http://x')).json()).toEqual({ ok: true });
  const e = endless();
  const big = cappedFetch(async () => e.res, 4 * CHUNK);
  await expect(big('http://x')).rejects.toBeInstanceOf(ResponseTooLargeError);
  expect(e.pulled()).toBeLessThanOrEqual(6 * CHUNK);
});
