/**
 * Cross-cutting adversarial properties: a single-byte mutation of a valid block, AuxPoW,
 * header, proof or signature is rejected (sampled with fast-check), and malformed JSON only ever
 * yields typed errors. "Rejected" means: a typed ProtocolError (DecodeError or VerificationError),
 * or - only where the wire format has several spellings of one value (hex digit case) - a value
 * identical to the original.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aggregateApprovals,
  ByteReader,
  checkAuxPow,
  checkProofOfWork,
  computePayloadBlockHash,
  decodeAuxPow,
  decodeGetProofResponse,
  decodeSignedBlockJson,
  decodeSignedBlockMsgpack,
  encodeSignedBlockJson,
  encodeSignedBlockMsgpack,
  equalBytes,
  getChainSpec,
  headerHash,
  nobleBackend,
  parseHex,
  prepareAuthorities,
  ProtocolError,
  readTransaction,
  signApproval,
  signingRoot,
  targetFromCompact,
  verifyBlockSelf,
  verifyGetProofResponse,
  type SignedConsensusBlock,
} from '../../src/protocol/index.js';
import { describeVectors, loadVectors } from '../helpers/vectors.js';

const SK1 = new Uint8Array(32);
SK1[31] = 1;
const spec = getChainSpec('dev');
const authorities = prepareAuthorities(spec.authorities, nobleBackend);

function validBlock(): SignedConsensusBlock {
  const payload = {
    parentHash: `0x${'ab'.repeat(32)}`,
    feeRecipient: '0x000000000000000000000000000000000000dead',
    stateRoot: `0x${'cd'.repeat(32)}`,
    receiptsRoot: `0x${'ef'.repeat(32)}`,
    logsBloom: `0x${'00'.repeat(256)}`,
    prevRandao: `0x${'00'.repeat(32)}`,
    blockNumber: 42n,
    gasLimit: 30_000_000n,
    gasUsed: 21_000n,
    timestamp: 1_700_000_000n,
    extraData: '0x',
    baseFeePerGas: 7n,
    blockHash: '0x',
    transactions: [
      '0x02f86c83010f2c80843b9aca0084773594008252089400000000000000000000000000000000000000018080c001a0aaaa000000000000000000000000000000000000000000000000000000000001a00bbb000000000000000000000000000000000000000000000000000000000002',
    ],
    withdrawals: [{ index: 0n, validatorIndex: 0n, address: `0x${'12'.repeat(20)}`, amount: 5n }],
  } as SignedConsensusBlock['message']['executionPayload'];
  payload.blockHash = computePayloadBlockHash(payload);
  const message = {
    parentHash: `0x${'01'.repeat(32)}`,
    slot: 425_000_000,
    auxpowHeader: null,
    executionPayload: payload,
    pegins: [[new Uint8Array(32).fill(3), new Uint8Array(32).fill(4)] as const],
    pegoutPaymentProposal: null,
    finalizedPegouts: [],
  } as SignedConsensusBlock['message'];
  return { message, signature: aggregateApprovals([signApproval(SK1, signingRoot(message), 0)]) };
}

/** Rejected, or decoded to exactly the original value. Anything else (or an untyped error) fails. */
function expectRejectedOrSame(run: () => Uint8Array | void, original?: Uint8Array): void {
  let same: Uint8Array | void;
  try {
    same = run();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(ProtocolError);
    return;
  }
  expect(original && same && equalBytes(same, original), 'a mutation was accepted and changed the value').toBe(true);
}

describe('single-byte mutations are rejected', () => {
  const block = validBlock();
  const bytes = encodeSignedBlockMsgpack(block);
  verifyBlockSelf(block, { spec, authorities, backend: nobleBackend });

  it('of a signed block (msgpack wire form): decode error, or a check fails, or the same canonical value', () => {
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const m = bytes.slice();
        m[at] = (m[at]! + delta) & 0xff;
        expectRejectedOrSame(() => {
          const decoded = decodeSignedBlockMsgpack(m);
          verifyBlockSelf(decoded, { spec, authorities, backend: nobleBackend });
          return encodeSignedBlockMsgpack(decoded);
        }, bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('of a BLS aggregate signature', () => {
    const sig = parseHex(block.signature.aggregateSignature, 'sig', { prefix: 'required' });
    fc.assert(
      fc.property(fc.nat(95), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const s = sig.slice();
        s[at] = (s[at]! + delta) & 0xff;
        const mutated = {
          ...block,
          signature: { ...block.signature, aggregateSignature: `0x${Buffer.from(s).toString('hex')}` as const },
        };
        expect(() => verifyBlockSelf(mutated, { spec, authorities, backend: nobleBackend })).toThrow(ProtocolError);
      }),
      { numRuns: 60 },
    );
  });

  it('malformed JSON (random edits of a valid block) only ever gives typed errors', () => {
    const json = encodeSignedBlockJson(block);
    const leaf = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.nat(), { maxLength: 3 }),
      fc.object({ maxDepth: 1 }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), leaf, fc.boolean()), { minLength: 1, maxLength: 3 }), (edits) => {
        const j = structuredClone(json) as Record<string, unknown>;
        for (const [pick, value, remove] of edits) {
          // walk to a random object/array inside and replace or delete one of its entries
          let node: Record<string, unknown> = j;
          for (let depth = 0; depth < 4; depth++) {
            const keys = Object.keys(node);
            const k = keys[(pick >> depth) % keys.length]!;
            const child = node[k];
            if (child && typeof child === 'object' && depth < 3 && (pick >> (depth + 8)) & 1)
              node = child as Record<string, unknown>;
            else {
              if (remove) delete node[k];
              else node[k] = value;
              break;
            }
          }
        }
        try {
          const decoded = decodeSignedBlockJson(j);
          verifyBlockSelf(decoded, { spec, authorities, backend: nobleBackend });
        } catch (e) {
          expect(e, String(e)).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describeVectors('single-byte mutations of real data are rejected', () => {
  it('of an AuxPoW (Namecoin vectors): only the ignored block_hash field may change unnoticed', () => {
    const vectors = loadVectors('namecoin-auxpow.json').vectors.filter(
      (v: { network: string }) => v.network === 'namecoin-mainnet',
    );
    for (const v of vectors) {
      const bytes = parseHex(v.auxpow_hex, 'auxpow', { prefix: 'optional' });
      const auxHash = parseHex(v.block_hash, 'h', { prefix: 'forbidden' }).reverse();
      const auxpow = decodeAuxPow(bytes);
      const target = targetFromCompact(auxpow.parentBlock.bits);
      // the 32-byte parent block hash after the coinbase is carried but ignored by every check (spec 1.5)
      const r = new ByteReader(bytes);
      readTransaction(r);
      const ignored = [r.offset, r.offset + 32];
      fc.assert(
        fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
          if (at >= ignored[0]! && at < ignored[1]!) return;
          const m = bytes.slice();
          m[at] = (m[at]! + delta) & 0xff;
          expectRejectedOrSame(() => {
            const a = decodeAuxPow(m);
            checkAuxPow(a, auxHash, Number(v.aux_chain_id), { variant: 'script-sig' });
            if (
              !checkProofOfWork(a.parentBlock, targetFromCompact(a.parentBlock.bits)) ||
              targetFromCompact(a.parentBlock.bits) !== target
            )
              throw new ProtocolError('test.pow', 'parent PoW no longer met');
          });
        }),
        { numRuns: 150 },
      );
    }
  });

  it('of a Bitcoin header: its PoW fails or its child no longer links to it', () => {
    const headers: string[] = loadVectors('bitcoin-headers.json').retarget_span.headers;
    const h = parseHex(headers[100], 'h', { prefix: 'optional', length: 80 });
    const child = parseHex(headers[101], 'h', { prefix: 'optional', length: 80 });
    const bits = h[72]! | (h[73]! << 8) | (h[74]! << 16) | (h[75]! << 24);
    fc.assert(
      fc.property(fc.nat(79), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const m = h.slice();
        m[at] = (m[at]! + delta) & 0xff;
        const links = equalBytes(child.subarray(4, 36), headerHash(m));
        const pow = checkProofOfWork(m, targetFromCompact(bits));
        expect(links && pow).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('of an eth_getProof node: the proof no longer verifies', () => {
    const c = loadVectors('eth-getproof.json').cases[0];
    const response = decodeGetProofResponse(c.result);
    fc.assert(
      fc.property(
        fc.nat(response.accountProof.length - 1),
        fc.nat(10_000),
        fc.integer({ min: 1, max: 255 }),
        (node, pos, delta) => {
          const proof = response.accountProof.map((n) => n.slice());
          const target = proof[node]!;
          target[pos % target.length] = (target[pos % target.length]! + delta) & 0xff;
          expect(() => verifyGetProofResponse(c.state_root, { ...response, accountProof: proof })).toThrow(
            ProtocolError,
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
