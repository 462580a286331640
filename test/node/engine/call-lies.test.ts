/**
 * Verified eth_call against lying endpoints (a tampering proxy in front of anvil): a wrong storage
 * value, wrong code, a forged proof, a wrong balance are each rejected with the check that catches them
 * (EndpointVerificationError, reported through onEndpointFault) and the next endpoint answers; alone,
 * the liar gets an error, never a wrong answer. The access-list hint is only a hint: a list with a slot
 * left out, or naming unrelated accounts, changes what is fetched, never the result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFunctionData, parseAbi, type Hex } from 'viem';
import {
  createEip1193Provider,
  createVerifiedReads,
  EndpointVerificationError,
  type EndpointFault,
} from '../../../src/node/engine/index.js';
import type { CallRequest } from '../../../src/node/engine/call/request.js';
import { createCallFixture, CALL_CHAIN_ID, ERC20_ABI, MULTICALL, type CallFixture } from './call-fixture.js';
import { createTamperProxy, flipHex, type Tamper, type TamperProxy } from './harness.js';

type Json = { [k: string]: any };

let f: CallFixture;
let liar: TamperProxy;
const chainId = BigInt(CALL_CHAIN_ID);
const plusOne = (q: string) => `0x${(BigInt(q) + 1n).toString(16)}`;

const balanceCall = (): CallRequest => ({
  to: f.token,
  data: encodeFunctionData({ abi: ERC20_ABI, functionName: 'balanceOf', args: [f.holder.address] }),
});
const ethBalanceCall = (): CallRequest => ({
  to: MULTICALL,
  data: encodeFunctionData({
    abi: parseAbi(['function getEthBalance(address) view returns (uint256)']),
    functionName: 'getEthBalance',
    args: [f.holder.address],
  }),
});

/** Proof tampers apply to eth_getProof answers only. */
const onProof =
  (change: (r: Json) => Json | undefined): Tamper =>
  (method, _params, result) =>
    method === 'eth_getProof' ? (change(result as Json) ?? result) : result;

const CASES: { name: string; tamper: Tamper; call: () => CallRequest; check: string }[] = [
  {
    name: 'a wrong storage value',
    tamper: onProof((r) =>
      r.storageProof.length === 0
        ? undefined
        : { ...r, storageProof: r.storageProof.map((s: Json) => ({ ...s, value: plusOne(s.value) })) },
    ),
    call: balanceCall,
    check: 'getproof.storage-value',
  },
  {
    name: 'wrong code',
    tamper: (method, _p, result) =>
      method === 'eth_getCode' && result !== '0x' ? flipHex(result as string, 20) : result,
    call: balanceCall,
    check: 'code.hash',
  },
  {
    name: 'a forged account proof',
    tamper: onProof((r) => ({
      ...r,
      accountProof: r.accountProof.map((n: string, i: number) =>
        i === r.accountProof.length - 1 ? flipHex(n, 40) : n,
      ),
    })),
    call: balanceCall,
    check: 'getproof.account-proof',
  },
  {
    name: 'a wrong balance',
    tamper: onProof((r) => ({ ...r, balance: plusOne(r.balance) })),
    call: ethBalanceCall,
    check: 'getproof.balance',
  },
  {
    name: 'a slot left out of the access list, then a wrong value for it',
    tamper: (method, params, result) => {
      if (method === 'eth_createAccessList')
        return {
          ...(result as Json),
          accessList: (result as Json).accessList.map((e: Json) => ({ ...e, storageKeys: [] })),
        };
      return onProof((r) =>
        r.storageProof.length === 0
          ? undefined
          : { ...r, storageProof: r.storageProof.map((s: Json) => ({ ...s, value: '0x0' })) },
      )(method, params, result);
    },
    call: balanceCall,
    check: 'getproof.storage-value',
  },
];

beforeAll(async () => {
  f = await createCallFixture();
  liar = await createTamperProxy(f.anvil.url);
}, 60_000);

afterAll(async () => {
  await liar?.close();
  await f?.close();
});

async function honestAnswer(call: CallRequest): Promise<Hex> {
  return createVerifiedReads({ evmRpc: [f.anvil.url], payloads: f.source }).call(call, 'latest', { chainId });
}

describe('a lying endpoint', () => {
  for (const c of CASES) {
    it(`${c.name}: rejected (${c.check}), the next endpoint answers; alone, an error`, async () => {
      const expected = await honestAnswer(c.call());
      liar.reset();
      liar.tamper = c.tamper;
      const faults: EndpointFault[] = [];
      const both = createVerifiedReads({
        evmRpc: [liar.url, f.anvil.url],
        payloads: f.source,
        onEndpointFault: (_url, e) => faults.push(e),
      });
      expect(await both.call(c.call(), 'latest', { chainId })).toBe(expected);
      expect(faults.length).toBeGreaterThan(0);
      for (const e of faults) {
        expect(e).toBeInstanceOf(EndpointVerificationError);
        expect((e as EndpointVerificationError).check).toBe(c.check);
        expect(e.endpoint).toBe(liar.url);
      }
      const alone = createVerifiedReads({ evmRpc: [liar.url], payloads: f.source });
      const err = await alone.call(c.call(), 'latest', { chainId }).catch((e) => e);
      expect(err).toBeInstanceOf(EndpointVerificationError);
      expect(err.check).toBe(c.check);
      const provider = createEip1193Provider({ reads: alone, chainId });
      await expect(
        provider.request({ method: 'eth_call', params: [{ to: c.call().to, data: c.call().data }, 'latest'] }),
      ).rejects.toMatchObject({ code: -32002, data: { check: c.check, endpoint: liar.url } });
    });
  }
});

describe('the access-list hint is only a hint', () => {
  const hints: { name: string; change: (list: Json[]) => Json[] }[] = [
    { name: 'a slot left out', change: (list) => list.map((e) => ({ ...e, storageKeys: [] })) },
    {
      name: 'unrelated accounts and slots',
      change: () => [
        { address: '0x00000000000000000000000000000000000000aa', storageKeys: [`0x${'11'.repeat(32)}`] },
        { address: f.other.address, storageKeys: [] },
      ],
    },
    { name: 'no list at all', change: () => 'not a list' as unknown as Json[] },
  ];
  for (const h of hints) {
    it(`${h.name}: same answer, what it lacks is fetched and proven on demand, no fault`, async () => {
      const expected = await honestAnswer(balanceCall());
      liar.reset();
      liar.tamper = (method, _p, result) =>
        method === 'eth_createAccessList'
          ? { ...(result as Json), accessList: h.change((result as Json).accessList) }
          : result;
      const faults: EndpointFault[] = [];
      const reads = createVerifiedReads({
        evmRpc: [liar.url],
        payloads: f.source,
        onEndpointFault: (_u, e) => faults.push(e),
      });
      expect(await reads.call(balanceCall(), 'latest', { chainId })).toBe(expected);
      expect(faults).toEqual([]);
      // the token's balance slot was proven although the hint did not name it
      const slotProofs = [...liar.counts.entries()].find(([m]) => m === 'eth_getProof')?.[1] ?? 0;
      expect(slotProofs).toBeGreaterThanOrEqual(3);
    });
  }
});
