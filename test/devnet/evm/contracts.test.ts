/**
 * The devnet's contracts: artifacts.ts is what solc 0.8.37 makes of the .sol files with the pinned
 * settings (recompiled here), and the bridge has Alys's ABI (selector, event topic) and is what the
 * genesis predeploys.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { encodeEventTopics, toFunctionSelector } from 'viem';
import { ARTIFACTS_PATH, compileContracts, renderArtifactsModule } from '../../../src/devnet/contracts/compile.js';
import { BRIDGE_ARTIFACT, LOAD_TOKEN_ARTIFACT } from '../../../src/devnet/contracts/artifacts.js';
import { REQUEST_PEGOUT_SELECTOR, REQUEST_PEGOUT_TOPIC0 } from '../../../src/protocol/index.js';

describe('devnet contracts', () => {
  it('artifacts.ts is up to date with the sources (recompiled with solc 0.8.37, pinned settings)', () => {
    const text = renderArtifactsModule(compileContracts());
    expect(text).toBe(readFileSync(ARTIFACTS_PATH, 'utf8'));
  }, 30_000);

  it("the bridge has Alys's peg-out ABI: requestPegOut(bytes) 0x9911dc74 and RequestPegOut topic0", () => {
    expect(toFunctionSelector('function requestPegOut(bytes bitcoinAddress)')).toBe(REQUEST_PEGOUT_SELECTOR);
    const [topic0] = encodeEventTopics({ abi: BRIDGE_ARTIFACT.abi, eventName: 'RequestPegOut' });
    expect(topic0).toBe(REQUEST_PEGOUT_TOPIC0);
    // both constants are in the runtime code (PUSH4 selector, PUSH32 topic)
    expect(BRIDGE_ARTIFACT.deployedBytecode).toContain(`63${REQUEST_PEGOUT_SELECTOR.slice(2)}`);
    expect(BRIDGE_ARTIFACT.deployedBytecode).toContain(`7f${REQUEST_PEGOUT_TOPIC0.slice(2)}`);
    const fn = BRIDGE_ARTIFACT.abi.find((x) => x.type === 'function' && x.name === 'requestPegOut');
    expect(fn).toMatchObject({ stateMutability: 'payable', inputs: [{ type: 'bytes' }] });
  });

  it('the load token has transfer/mint and the ERC-20 Transfer event; no Cancun opcodes in either contract', () => {
    expect(
      LOAD_TOKEN_ARTIFACT.abi
        .map((x) => (x as { name?: string; type: string }).name ?? (x as { type: string }).type)
        .sort(),
    ).toEqual(
      [
        'InsufficientBalance',
        'Transfer',
        'balanceOf',
        'decimals',
        'mint',
        'name',
        'symbol',
        'totalSupply',
        'transfer',
      ].sort(),
    );
    const [transferTopic] = encodeEventTopics({ abi: LOAD_TOKEN_ARTIFACT.abi, eventName: 'Transfer' });
    expect(transferTopic).toBe('0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef');
    for (const code of [BRIDGE_ARTIFACT.deployedBytecode, LOAD_TOKEN_ARTIFACT.deployedBytecode]) {
      for (const op of opcodes(code)) expect([0x5c, 0x5d, 0x5e, 0x49, 0x4a]).not.toContain(op); // TLOAD TSTORE MCOPY BLOBHASH BLOBBASEFEE
    }
  });
});

/** The opcodes of EVM bytecode (skipping PUSH data). */
function opcodes(code: string): number[] {
  const bytes = Buffer.from(code.slice(2), 'hex');
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const op = bytes[i]!;
    out.push(op);
    if (op >= 0x60 && op <= 0x7f) i += op - 0x5f;
  }
  return out;
}
