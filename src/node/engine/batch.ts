/**
 * JSON-RPC batches to an EVM endpoint (pure parts): the request body, and the checked reading of the
 * reply. A batch reply is untrusted like any answer, and its pairing of replies to requests is the
 * endpoint's word: a reply that is not an array, or whose ids are missing, extra, duplicated or not ours,
 * is a fault of the endpoint (`rpc.batch-reply`), never guessed at, so no result can land on the wrong
 * request. A reply that is one JSON-RPC error object instead of an array is the endpoint refusing
 * batches (some do): the caller then sends the requests one by one (endpoints.ts).
 */

/** One request of a batch. */
export interface BatchCall {
  readonly method: string;
  readonly params: readonly unknown[];
}

/** One reply of a batch, in the order of the calls: a result, or the JSON-RPC error object. */
export type BatchReply = { ok: true; result: unknown } | { ok: false; code: number | undefined; message: string };

/** The endpoint refuses batches: it answered a batch with one JSON-RPC error object. */
export interface BatchRefused {
  refused: true;
  message: string;
}

/** Why a batch reply cannot be used (thrown as the endpoint's `rpc.batch-reply` fault by the caller). */
export class BatchReplyProblem extends Error {
  override name = 'BatchReplyProblem';
}

/** The batch body for `calls`, with ids `firstId`, `firstId + 1`, ... in order. */
export function batchBody(calls: readonly BatchCall[], firstId: number): string {
  return JSON.stringify(calls.map((c, i) => ({ jsonrpc: '2.0', id: firstId + i, method: c.method, params: c.params })));
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function errorOf(e: unknown): { code: number | undefined; message: string } {
  const code = isObject(e) && typeof e['code'] === 'number' ? e['code'] : undefined;
  const message = isObject(e) && typeof e['message'] === 'string' ? e['message'] : JSON.stringify(e);
  return { code, message: message.slice(0, 200) };
}

/**
 * The replies of a parsed batch reply to `count` calls with ids `firstId`..`firstId + count - 1`, in the
 * order of the calls (the endpoint may answer in any order). A single error object: BatchRefused.
 * Throws BatchReplyProblem for anything else that is not exactly one well-formed reply per id.
 */
export function batchReplies(parsed: unknown, firstId: number, count: number): BatchReply[] | BatchRefused {
  if (!Array.isArray(parsed)) {
    if (isObject(parsed) && 'error' in parsed) return { refused: true, message: errorOf(parsed['error']).message };
    throw new BatchReplyProblem('the reply to a batch is not an array');
  }
  if (parsed.length !== count)
    throw new BatchReplyProblem(`the reply to a batch of ${count} has ${parsed.length} entries`);
  const out: (BatchReply | undefined)[] = new Array(count).fill(undefined);
  for (const reply of parsed) {
    if (!isObject(reply)) throw new BatchReplyProblem('a batch reply entry is not an object');
    const id = reply['id'];
    const at = typeof id === 'number' && Number.isSafeInteger(id) ? id - firstId : -1;
    if (at < 0 || at >= count) throw new BatchReplyProblem(`a batch reply has id ${JSON.stringify(id)}, not one asked`);
    if (out[at] !== undefined) throw new BatchReplyProblem(`a batch reply has id ${id} twice`);
    if ('result' in reply && !('error' in reply)) out[at] = { ok: true, result: reply['result'] };
    else if ('error' in reply && !('result' in reply)) out[at] = { ok: false, ...errorOf(reply['error']) };
    else throw new BatchReplyProblem(`the batch reply with id ${id} has neither or both of result and error`);
  }
  return out as BatchReply[];
}
