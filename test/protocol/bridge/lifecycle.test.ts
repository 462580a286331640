/**
 * The peg state machine (src/protocol/bridge/lifecycle.ts): each state of spec 6.5 from its
 * evidence, reorgs moving a peg back, and the properties (fast-check) - no state without its
 * evidence, any order of the same evidence gives the same state, adding evidence that is not a reorg
 * never moves a peg back, and stored evidence of the wrong shape is a DecodeError naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkPegEvidence,
  evidenceId,
  PEG_IN_REQUIRES,
  PEG_OUT_REQUIRES,
  type PegEvidence,
  type PegInState,
  type PegOutState,
  pegInState,
  pegOutState,
} from '../../../src/protocol/bridge/lifecycle.js';
import { DecodeError } from '../../../src/protocol/errors.js';

const h = (c: string) => c.repeat(64);
const T = h('a'); // the peg-in txid
const OTHER = h('b');
const B1 = h('c'); // a peg-out payment txid
const B2 = h('d');
const H1 = h('1'); // Bitcoin block hashes
const H2 = h('2');
const AH = [`0x${h('3')}`, `0x${h('4')}`, `0x${h('5')}`];
const EH = [`0x${h('6')}`, `0x${h('7')}`];
const E = `0x${h('e')}`; // the peg-out's EVM tx hash
const A1 = `0x${'1'.repeat(40)}`;
const A2 = `0x${'2'.repeat(40)}`;
const S1 = '0014' + '9'.repeat(40);
const S2 = '5120' + '8'.repeat(64);
const N = 6;

const inState = (ev: PegEvidence[]) => pegInState(T, ev, { requiredConfirmations: N });
const outState = (ev: PegEvidence[]) => pegOutState(E, ev);

const pegTx: PegEvidence = { kind: 'btc-pegin-tx', txid: T, evmAddress: A1, amountSats: '250000' };
const inc = (confirmations: number, seq: number, blockHash = H1, txid = T): PegEvidence => ({
  kind: 'btc-inclusion',
  txid,
  blockHash,
  height: 100,
  confirmations,
  seq,
});
const minted = (alysBlock: number, alysHash = AH[0]!): PegEvidence => ({
  kind: 'alys-minted',
  txid: T,
  btcBlockHash: H1,
  alysBlock,
  alysHash,
  evmAddress: A1,
  amountSats: '250000',
  creditedGwei: '2500000',
});
const request = (sats: string, script: string | null = S1): PegEvidence => ({
  kind: 'evm-request',
  evmTxHash: E,
  elBlock: 10,
  elBlockHash: EH[0]!,
  evmAddress: A2,
  bitcoinAddress: '',
  destinationScript: script,
  valueWei: `${sats}0000000000`,
  sats,
});
const proposal = (over: Partial<Extract<PegEvidence, { kind: 'alys-proposal' }>> = {}): PegEvidence => ({
  kind: 'alys-proposal',
  alysBlock: 11,
  alysHash: AH[1]!,
  elBlock: 11,
  btcTxid: B1,
  outputIndex: 0,
  script: S1,
  value: '1999000',
  ...over,
});
const finalizedPegout: PegEvidence = { kind: 'alys-finalized-pegout', alysBlock: 14, alysHash: AH[2]!, btcTxid: B1 };

describe('peg-in states (spec 6.5)', () => {
  it('walks broadcast -> confirming k/N -> eligible -> minted -> finalized, each on its evidence', () => {
    expect(inState([])).toEqual({ state: 'unknown' });
    expect(inState([pegTx])).toMatchObject({ state: 'broadcast', verified: false, evmAddress: A1 });
    expect(inState([pegTx, inc(2, 1)])).toMatchObject({ state: 'confirming', k: 2, n: N, btcBlockHash: H1 });
    expect(inState([pegTx, inc(2, 1), inc(6, 2)])).toMatchObject({ state: 'eligible', k: 6 });
    const m = [pegTx, inc(6, 2), minted(20)];
    expect(inState(m)).toMatchObject({ state: 'minted', alysBlock: 20, alysHash: AH[0], creditedGwei: '2500000' });
    expect(inState([...m, { kind: 'alys-finality', number: 19 }])).toMatchObject({ state: 'minted' });
    expect(inState([...m, { kind: 'alys-finality', number: 20 }])).toMatchObject({ state: 'finalized' });
  });

  it('is invalid (terminal) with the reason when the bytes are not a peg-in', () => {
    const bad: PegEvidence = { kind: 'btc-not-pegin', txid: T, reason: 'no-evm-address' };
    expect(inState([bad, inc(9, 1)])).toEqual({ state: 'invalid', reason: 'no-evm-address' });
  });

  it('moves back on reorgs: an inclusion recounted at 0, a minting block rolled back', () => {
    expect(inState([pegTx, inc(3, 1), inc(0, 2)])).toMatchObject({ state: 'broadcast' });
    // re-included in another block later
    expect(inState([pegTx, inc(3, 1), inc(0, 2), inc(1, 3, H2)])).toMatchObject({
      state: 'confirming',
      k: 1,
      btcBlockHash: H2,
    });
    const orphan: PegEvidence = { kind: 'alys-orphaned', number: 20, hash: AH[0]!, payloadHash: EH[1]! };
    expect(inState([pegTx, inc(6, 1), minted(20), orphan])).toMatchObject({ state: 'eligible' });
    expect(inState([pegTx, inc(6, 1), minted(20), orphan, minted(21, AH[1])])).toMatchObject({
      state: 'minted',
      alysBlock: 21,
    });
  });

  it('ignores evidence about other transactions', () => {
    expect(inState([{ ...pegTx, txid: OTHER }, inc(9, 1, H1, OTHER)])).toEqual({ state: 'unknown' });
  });
});

describe('peg-out states (spec 6.5)', () => {
  it('walks requested -> proposed -> finalized-on-alys -> broadcast -> confirmed k', () => {
    const r = request('2000000');
    expect(outState([r])).toMatchObject({ state: 'requested', request: { sats: '2000000', elBlock: 10 } });
    expect(outState([r, proposal()])).toMatchObject({
      state: 'proposed',
      btcTxid: B1,
      alysBlock: 11,
      value: '1999000',
    });
    expect(outState([r, proposal(), finalizedPegout])).toMatchObject({ state: 'finalized-on-alys', btcTxid: B1 });
    const seen: PegEvidence = { kind: 'btc-seen', txid: B1 };
    expect(outState([r, proposal(), finalizedPegout, seen])).toMatchObject({ state: 'broadcast' });
    expect(outState([r, proposal(), finalizedPegout, seen, inc(3, 5, H1, B1)])).toMatchObject({
      state: 'confirmed',
      k: 3,
    });
    expect(outState([r, proposal(), finalizedPegout, seen, inc(3, 5, H1, B1), inc(0, 6, H1, B1)])).toMatchObject({
      state: 'broadcast',
    });
  });

  it('is ignored below 0.01 BTC (burned, never paid) and for an address Alys cannot parse', () => {
    expect(outState([request('999999'), proposal()])).toMatchObject({ state: 'ignored', reason: 'below-minimum' });
    expect(outState([request('2000000', null)])).toMatchObject({ state: 'ignored', reason: 'unparseable-address' });
  });

  it('takes only a proposal at EL block N+1 paying the requested script no more than requested', () => {
    const r = request('2000000');
    expect(outState([r, proposal({ elBlock: 12 })]).state).toBe('requested');
    expect(outState([r, proposal({ script: S2 })]).state).toBe('requested');
    expect(outState([r, proposal({ value: '2000001' })]).state).toBe('requested');
    // a finalized payment of another txid, or a Bitcoin sighting without finalization, skips nothing
    expect(outState([r, proposal(), { ...finalizedPegout, btcTxid: B2 }]).state).toBe('proposed');
    expect(outState([r, proposal(), inc(4, 1, H1, B1)]).state).toBe('proposed');
    expect(outState([proposal(), finalizedPegout, inc(4, 1, H1, B1)]).state).toBe('unknown');
  });

  it('moves back when the proposing block is rolled back', () => {
    const orphan: PegEvidence = { kind: 'alys-orphaned', number: 11, hash: AH[1]!, payloadHash: EH[1]! };
    expect(outState([request('2000000'), proposal(), finalizedPegout, orphan]).state).toBe('requested');
  });
});

// ------------------------------------------------------------------------------------------ properties

const pick = <T>(...xs: T[]) => fc.constantFrom(...xs);
const dec = pick('0', '250000', '999999', '1000000', '2000000', '3000000');
const evidenceArb: fc.Arbitrary<PegEvidence> = fc.oneof(
  fc.record({
    kind: fc.constant('btc-pegin-tx' as const),
    txid: pick(T, OTHER),
    evmAddress: pick(A1, A2),
    amountSats: dec,
  }),
  fc.record({
    kind: fc.constant('btc-not-pegin' as const),
    txid: pick(T, OTHER),
    reason: pick('no-federation-output' as const, 'no-evm-address' as const),
  }),
  fc.record({ kind: fc.constant('btc-seen' as const), txid: pick(T, B1, B2) }),
  fc.record({
    kind: fc.constant('btc-inclusion' as const),
    txid: pick(T, B1, B2),
    blockHash: pick(H1, H2),
    height: fc.integer({ min: 1, max: 200 }),
    confirmations: fc.integer({ min: 0, max: 10 }),
    seq: fc.integer({ min: 0, max: 1000 }),
  }),
  fc.record({
    kind: fc.constant('alys-minted' as const),
    txid: pick(T, OTHER),
    btcBlockHash: pick(H1, H2),
    alysBlock: fc.integer({ min: 1, max: 40 }),
    alysHash: pick(...AH),
    evmAddress: pick(A1, A2),
    amountSats: dec,
    creditedGwei: dec,
  }),
  fc.record({ kind: fc.constant('alys-finality' as const), number: fc.integer({ min: 0, max: 50 }) }),
  fc.record({
    kind: fc.constant('alys-orphaned' as const),
    number: fc.integer({ min: 1, max: 40 }),
    hash: pick(...AH),
    payloadHash: pick(...EH),
  }),
  fc.record({
    kind: fc.constant('evm-request' as const),
    evmTxHash: pick(E, `0x${h('f')}`),
    elBlock: pick(10, 11),
    elBlockHash: pick(...EH),
    evmAddress: pick(A1, A2),
    bitcoinAddress: fc.constant(''),
    destinationScript: pick(S1, S2, null),
    valueWei: dec,
    sats: dec,
  }),
  fc.record({
    kind: fc.constant('alys-proposal' as const),
    alysBlock: fc.integer({ min: 1, max: 40 }),
    alysHash: pick(...AH),
    elBlock: pick(11, 12),
    btcTxid: pick(B1, B2),
    outputIndex: fc.integer({ min: 0, max: 2 }),
    script: pick(S1, S2),
    value: dec,
  }),
  fc.record({
    kind: fc.constant('alys-finalized-pegout' as const),
    alysBlock: fc.integer({ min: 1, max: 40 }),
    alysHash: pick(...AH),
    btcTxid: pick(B1, B2),
  }),
);
/** A SET of evidence: one item per identity (an observation is not recorded twice with other contents). */
const evidenceSet = fc.uniqueArray(evidenceArb, { maxLength: 14, selector: evidenceId });

const has = (ev: PegEvidence[], p: (e: PegEvidence) => boolean) => ev.some(p);

/** The specific items that justify a peg-in state (beyond the kinds table). */
function justifiesIn(s: PegInState, ev: PegEvidence[]): boolean {
  switch (s.state) {
    case 'unknown':
      return true;
    case 'invalid':
      return has(ev, (e) => e.kind === 'btc-not-pegin' && e.txid === T && e.reason === s.reason);
    case 'broadcast':
      return has(ev, (e) => e.kind === 'btc-pegin-tx' && e.txid === T);
    case 'confirming':
    case 'eligible':
      return (
        has(ev, (e) => e.kind === 'btc-pegin-tx' && e.txid === T) &&
        has(
          ev,
          (e) =>
            e.kind === 'btc-inclusion' &&
            e.txid === T &&
            e.blockHash === s.btcBlockHash &&
            e.confirmations === s.k &&
            s.k > 0,
        ) &&
        (s.state === 'eligible') === s.k >= N
      );
    case 'minted':
    case 'finalized':
      return (
        has(
          ev,
          (e) => e.kind === 'alys-minted' && e.txid === T && e.alysHash === s.alysHash && e.alysBlock === s.alysBlock,
        ) &&
        !has(ev, (e) => e.kind === 'alys-orphaned' && e.hash === s.alysHash) &&
        (s.state === 'minted' || has(ev, (e) => e.kind === 'alys-finality' && e.number >= s.alysBlock))
      );
  }
}

function justifiesOut(s: PegOutState, ev: PegEvidence[]): boolean {
  if (s.state === 'unknown') return true;
  const req = has(ev, (e) => e.kind === 'evm-request' && e.evmTxHash === E && e.sats === s.request.sats);
  if (s.state === 'requested' || s.state === 'ignored') return req;
  const prop = has(
    ev,
    (e) =>
      e.kind === 'alys-proposal' &&
      e.btcTxid === s.btcTxid &&
      e.elBlock === s.request.elBlock + 1 &&
      BigInt(e.value) <= BigInt(s.request.sats),
  );
  if (s.state === 'proposed') return req && prop;
  const fin = has(ev, (e) => e.kind === 'alys-finalized-pegout' && e.btcTxid === s.btcTxid);
  if (s.state === 'finalized-on-alys') return req && prop && fin;
  if (s.state === 'broadcast')
    return req && prop && fin && has(ev, (e) => e.kind === 'btc-seen' && e.txid === s.btcTxid);
  return (
    req &&
    prop &&
    fin &&
    has(ev, (e) => e.kind === 'btc-inclusion' && e.txid === s.btcTxid && e.confirmations === s.k && s.k > 0)
  );
}

const kindsPresent = (ev: PegEvidence[], kinds: readonly string[]) => kinds.every((k) => ev.some((e) => e.kind === k));
const IN_RANK = { unknown: 0, broadcast: 1, confirming: 2, eligible: 3, minted: 4, finalized: 5, invalid: 6 } as const;
const OUT_RANK = {
  unknown: 0,
  requested: 1,
  ignored: 1,
  proposed: 2,
  'finalized-on-alys': 3,
  broadcast: 4,
  confirmed: 5,
} as const;
const isReorgish = (e: PegEvidence) => e.kind === 'alys-orphaned' || e.kind === 'btc-inclusion';

describe('peg state machine properties (fast-check)', () => {
  it('no state without its evidence (the kinds table and the very items it names)', () => {
    fc.assert(
      fc.property(evidenceSet, (ev) => {
        const i = inState(ev);
        const o = outState(ev);
        return (
          kindsPresent(ev, PEG_IN_REQUIRES[i.state]) &&
          justifiesIn(i, ev) &&
          kindsPresent(ev, PEG_OUT_REQUIRES[o.state]) &&
          justifiesOut(o, ev)
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('no state without its evidence, over subsets of complete histories (every step dropped somewhere)', () => {
    const history: PegEvidence[] = [
      pegTx,
      inc(2, 1),
      inc(7, 2),
      minted(20),
      { kind: 'alys-finality', number: 25 },
      request('2000000'),
      proposal(),
      finalizedPegout,
      { kind: 'btc-seen', txid: B1 },
      inc(3, 3, H1, B1),
    ];
    fc.assert(
      fc.property(
        fc.subarray(history),
        fc.uniqueArray(evidenceArb, { maxLength: 3, selector: evidenceId }),
        (sub, noise) => {
          const ev = [...sub, ...noise.filter((n) => !sub.some((e) => evidenceId(e) === evidenceId(n)))];
          return justifiesIn(inState(ev), ev) && justifiesOut(outState(ev), ev);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('any permutation of the same evidence gives the same state', () => {
    fc.assert(
      fc.property(
        evidenceSet.chain((ev) =>
          fc.tuple(fc.constant(ev), fc.shuffledSubarray(ev, { minLength: ev.length, maxLength: ev.length })),
        ),
        ([ev, shuffled]) => {
          expect(inState(shuffled)).toEqual(inState(ev));
          expect(outState(shuffled)).toEqual(outState(ev));
          expect(inState([...ev, ...shuffled])).toEqual(inState(ev)); // duplicates change nothing
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('adding evidence that is not a reorg observation never moves a peg back', () => {
    fc.assert(
      fc.property(evidenceSet, evidenceArb, (ev, extra) => {
        fc.pre(!isReorgish(extra) && !ev.some((e) => evidenceId(e) === evidenceId(extra)));
        const [i0, i1] = [inState(ev), inState([...ev, extra])];
        const [o0, o1] = [outState(ev), outState([...ev, extra])];
        return IN_RANK[i1.state] >= IN_RANK[i0.state] && OUT_RANK[o1.state] >= OUT_RANK[o0.state];
      }),
      { numRuns: 2000 },
    );
  });

  it('every generated item survives checkPegEvidence (the stored form is the checked form)', () => {
    fc.assert(
      fc.property(evidenceArb, (e) => {
        expect(checkPegEvidence(JSON.parse(JSON.stringify(e)))).toEqual(e);
      }),
    );
  });
});

describe('checkPegEvidence: stored items read back', () => {
  it.each([
    ['not an object', 7, 'evidence'],
    ['unknown kind', { kind: 'btc-magic' }, 'evidence.kind'],
    ['a malformed txid', { ...pegTx, txid: 'zz' }, 'evidence.txid'],
    ['an amount that is not a decimal', { ...pegTx, amountSats: '-5' }, 'evidence.amountSats'],
    ['an extra field', { ...pegTx, state: 'finalized' }, 'evidence'],
    ['a negative count', { ...(inc(1, 1) as object), confirmations: -1 }, 'evidence.confirmations'],
  ])('refuses %s with a DecodeError naming the field', (_, value, path) => {
    try {
      checkPegEvidence(value);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      expect((e as DecodeError).path).toBe(path);
      expect((e as DecodeError).code).toBe('peg.evidence');
    }
  });
});
