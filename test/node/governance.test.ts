/**
 * The governance stream client (src/node/actors/governance.ts) against the devnet governance server
 * (src/devnet/governance.ts), real gRPC over HTTP/2 on loopback: registration as OBSERVER, heartbeats acked,
 * a signed update handed on with the new set, forged / under-threshold / replayed / wrong-height / malformed
 * updates rejected and charged with their check, proposals passed on as unverified, reconnection after the
 * server restarts, and the fetch-only transport refusing the bidirectional call while unary calls work.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** Wait for a condition (the machine may be busy: generous, never a timing assertion). */
const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 20 });
import { create } from '@bufbuild/protobuf';
import { createActorSystem, type ActorSystem } from '../../src/actors/index.js';
import {
  createGovernanceStats,
  governanceChild,
  governanceSupervisor,
  type GovernanceActor,
  type GovernanceArgs,
} from '../../src/node/actors/governance.js';
import { authoritySetChange, type GovernanceProposal } from '../../src/node/governance/convert.js';
import { GovernanceTransportUnsupportedError } from '../../src/node/governance/errors.js';
import {
  FederationMemberSchema,
  NodeType,
  type FederationUpdate,
} from '../../src/node/governance/gen/governance/v1/governance_pb.js';
import {
  governanceCapabilities,
  governanceHealth,
  streamingGovernanceClient,
} from '../../src/node/governance/transport.js';
import { createNodeGovernanceTransport } from '../../src/platform/nodejs/governance.js';
import { createWebGovernanceTransport } from '../../src/platform/browser/governance.js';
import { createBlsBackend } from '../../src/protocol/bls/index.js';
import type { VerifiedFederationUpdate } from '../../src/protocol/federation-update.js';
import { deriveFederation } from '../../src/devnet/consensus/keys.js';
import { startGovernanceServer, type GovernanceServer } from '../../src/devnet/governance.js';

const CHAIN_ID = 121212;
const bls = await createBlsBackend('wasm');
const members = deriveFederation({ seed: 'governance-test', authorities: 4 });
const next = deriveFederation({ seed: 'governance-test/next', authorities: 5 });

describe('governance stream client against the devnet governance server', () => {
  let server: GovernanceServer;
  let sys: ActorSystem;
  let args: GovernanceArgs;
  const applied: VerifiedFederationUpdate[] = [];
  const faults: [string, string][] = [];
  const proposals: GovernanceProposal[] = [];
  const head = 100;

  beforeAll(async () => {
    server = await startGovernanceServer({ chainId: CHAIN_ID, current: () => members });
    args = {
      transport: createNodeGovernanceTransport(server.url),
      node: { id: 'light-test', version: 'test' },
      heartbeatIntervalMs: 50,
      backend: bls,
      // the authority set stays the spec's here: applying the update to block verification is the chain's job
      context: () => ({
        current: members.map((m) => m.blsPublicKey),
        chainId: CHAIN_ID,
        lastEffectiveHeight: applied.at(-1)?.effectiveHeight ?? 0,
        headHeight: head,
      }),
      onFederationUpdate: (v) => void applied.push(v),
      onProposal: (p) => void proposals.push(p),
      onFault: (source, code) => void faults.push([source, code]),
      stats: createGovernanceStats(server.url),
    };
    sys = createActorSystem({
      name: 'gov-test',
      root: { strategy: 'one-for-one', children: [governanceSupervisor(args, { initialMs: 20, maxMs: 200 })] },
    });
    await sys.start();
    await waitFor(() => expect(args.stats.connected).toBe(true));
  });
  afterAll(async () => {
    await sys?.shutdown();
    await server?.stop();
  });

  it('registers as an OBSERVER and gets its heartbeats acked', async () => {
    expect(server.registrations[0]).toMatchObject({ nodeId: 'light-test', nodeType: NodeType.OBSERVER });
    expect(args.stats.assignedNodeId).toBe(server.registrations[0]!.assignedNodeId);
    await waitFor(() => expect(args.stats.lastHeartbeatAck?.sequence).toBeGreaterThanOrEqual(2));
    expect(server.heartbeatsAcked()).toBeGreaterThanOrEqual(2);
    const health = await sys.ref<typeof GovernanceActor>('/gov-test/governance-sup/governance').ask({ type: 'health' });
    expect(health).toMatchObject({ connected: true, url: server.url, connects: 1 });
  });

  it('rejects a wrong-height update (at or below the verified head) and charges the source', async () => {
    server.pushWrongHeight({ effectiveHeight: 90, next });
    await waitFor(() => expect(faults).toContainEqual([server.url, 'federation-update.height']));
    expect(applied).toHaveLength(0);
  });

  it('hands a signed update to the callback with the new set', async () => {
    const pushed = server.pushUpdate({ effectiveHeight: 150, next });
    await waitFor(() => expect(applied).toHaveLength(1));
    const v = applied[0]!;
    expect(v).toMatchObject({ effectiveHeight: 150, digest: pushed.digest, signers: [0, 1, 2] });
    expect(v.authorities).toEqual(next.map((m) => m.blsPublicKey));
    expect(authoritySetChange(v)).toEqual({
      effectiveHeight: 150,
      authorities: next.map((m) => m.blsPublicKey),
      federation: next.map((m) => m.feeAddress),
      federationBitcoinPubkeys: next.map((m) => m.btcPublicKey),
      source: { kind: 'governance', digest: pushed.digest },
    });
    expect(args.stats).toMatchObject({ updatesApplied: 1, lastAppliedHeight: 150 });
  });

  it('rejects forged, under-threshold and replayed updates, charging each with its check', async () => {
    const before = faults.length;
    server.pushForged({ effectiveHeight: 200, next });
    server.pushUnderThreshold({ effectiveHeight: 210, next });
    server.pushReplay();
    await waitFor(() => expect(faults.length).toBe(before + 3));
    expect(faults.slice(before)).toEqual([
      [server.url, 'federation-update.signature'],
      [server.url, 'federation-update.under-threshold'],
      [server.url, 'federation-update.replayed'],
    ]);
    expect(applied).toHaveLength(1);
    expect(args.stats.lastRejection).toBe('federation-update.replayed');
  });

  it('rejects malformed updates (16 members, bad key bytes) and charges the source', async () => {
    const before = faults.length;
    const valid = server.pushUpdate({ effectiveHeight: 400, next }).message;
    await waitFor(() => expect(applied).toHaveLength(2));
    const tooMany: FederationUpdate = { ...valid, effectiveHeight: 500n, members: Array(16).fill(valid.members[0]!) };
    const badKey: FederationUpdate = {
      ...valid,
      effectiveHeight: 500n,
      members: [create(FederationMemberSchema, { ...valid.members[0]!, publicKey: new Uint8Array(48).fill(0xff) })],
    };
    server.pushRaw(tooMany);
    server.pushRaw(badKey);
    await waitFor(() => expect(faults.length).toBe(before + 2));
    expect(faults.slice(before).map(([, code]) => code)).toEqual([
      'federation-update.members',
      'federation-update.member-key',
    ]);
    expect(applied).toHaveLength(2);
  });

  it('passes proposal notifications on, marked unverified; an oversized one is charged', async () => {
    server.pushProposal({ proposalId: 'p-1', data: Uint8Array.of(1, 2, 3), votingDeadline: 1_700_000_000 });
    await waitFor(() => expect(proposals).toHaveLength(1));
    expect(proposals[0]).toEqual({
      verified: false,
      proposalId: 'p-1',
      proposalType: 1,
      proposalData: '0x010203',
      votingDeadline: 1_700_000_000,
      requiredVotes: 2,
    });
    server.pushProposal({ proposalId: 'p-2', data: new Uint8Array(20_000) });
    await waitFor(() => expect(faults.at(-1)).toEqual([server.url, 'governance.bad-response']));
    expect(proposals).toHaveLength(1);
  });

  it('reconnects after the server restarts (health goes down, then up)', async () => {
    const registrations = server.registrations.length;
    await server.stop();
    await waitFor(() => expect(args.stats.connected).toBe(false));
    await server.restart();
    await waitFor(() => expect(args.stats.connected).toBe(true));
    expect(args.stats.connects).toBeGreaterThanOrEqual(2);
    expect(server.registrations.length).toBe(registrations + 1);
    // the replay floor survived the restart of the actor: the old update is still a replay
    server.pushReplay();
    await waitFor(() => expect(faults.at(-1)).toEqual([server.url, 'federation-update.replayed']));
  });

  it('a message over the size cap breaks the stream, is charged, and the client reconnects', async () => {
    const connects = args.stats.connects;
    server.pushOversized(100_000); // > 64 KiB
    await waitFor(() => expect(faults.at(-1)).toEqual([server.url, 'governance.message-too-large']));
    await waitFor(() => expect(args.stats.connects).toBe(connects + 1));
    expect(args.stats.connected).toBe(true);
  });

  it('unanswered heartbeats count as a broken stream: the client reconnects', async () => {
    const connects = args.stats.connects;
    server.behaviour.ackHeartbeats = false;
    await waitFor(() => expect(args.stats.lastError).toMatch(/heartbeats without an ack/));
    server.behaviour.ackHeartbeats = true;
    await waitFor(() => expect(args.stats.connects).toBeGreaterThan(connects));
    await waitFor(() => expect(args.stats.connected).toBe(true));
  });

  it('a refused registration is a crash; the client keeps retrying until it is accepted', async () => {
    const connects = args.stats.connects;
    server.behaviour.acceptRegistrations = false;
    await server.restart(); // drop the current stream
    await waitFor(() => expect(args.stats.lastError).toMatch(/did not accept the registration/));
    expect(args.stats.connected).toBe(false);
    server.behaviour.acceptRegistrations = true;
    await waitFor(() => expect(args.stats.connected).toBe(true));
    expect(args.stats.connects).toBe(connects + 1);
  });

  it('over fetch (gRPC-web): unary calls work, the bidirectional stream is refused with a typed error', async () => {
    const web = createWebGovernanceTransport(server.webUrl);
    expect(await governanceHealth(web)).toMatchObject({
      version: 'alys-light-devnet',
      info: { chain_id: String(CHAIN_ID) },
    });
    expect(await governanceCapabilities(web, 'light-test')).toMatchObject({ protocolVersions: ['governance.v1'] });
    expect(() => streamingGovernanceClient(web)).toThrow(GovernanceTransportUnsupportedError);
    expect(() => governanceChild({ ...args, transport: web })).toThrow(
      expect.objectContaining({ code: 'governance.transport-unsupported' }),
    );
    // and the same unary call over gRPC/HTTP2
    expect((await governanceHealth(args.transport)).version).toBe('alys-light-devnet');
  });
});
