/**
 * One error family: every error class the library exports extends AlysLightError and carries a
 * stable `code`, so an embedder needs one `instanceof` and one `switch (err.code)`.
 */
import { describe, expect, it } from 'vitest';
import * as actorsApi from '../src/actors/index.js';
import { TimeoutError } from '../src/actors/timeout.js';
import { ConfigBaseError, ConfigClosedError, ConfigFileError, ConfigSyntaxError } from '../src/config/errors.js';
import { keyInfo, type ConfigKey } from '../src/config/schema.js';
import { resolveConfig } from '../src/config/load.js';
import { AlysLightError } from '../src/errors.js';
import * as webApi from '../src/index.js';
import * as nodejsApi from '../src/index.nodejs.js';
import { createVerifiedReads } from '../src/node/engine/reads.js';
import { P2pError } from '../src/node/network/p2p-host.js';
import { createNodePlatform } from '../src/platform/nodejs/platform.js';
import { DEV_CHAIN_SPEC } from '../src/protocol/chainspec.js';
import { SourceError } from '../src/node/sources/consensus-rpc.js';
import { CorruptStoreError } from '../src/node/storage/block-store.js';
import { FederationChangeError, FederationRecordError } from '../src/node/errors.js';
import { GossipTooLargeError } from '../src/protocol/p2p/gossip.js';
import { fromWireError, toWireError } from '../src/platform/browser/node-worker/errors-wire.js';
import * as protocolApi from '../src/protocol/index.js';

const A = actorsApi;
const N = nodejsApi;
const P = protocolApi;
const cause = new Error('boom');

/** One representative instance per exported error class, by class name. */
const samples: Record<string, () => Error> = {
  AlysLightError: () => new AlysLightError('example', 'an example'),
  // actors
  ActorError: () => new A.ActorError('example', 'an example'),
  AskTimeoutError: () => new A.AskTimeoutError('a', 10),
  MailboxFullError: () => new A.MailboxFullError('a', 1, 'fail'),
  MailboxTimeoutError: () => new A.MailboxTimeoutError('a', 10),
  ActorStoppedError: () => new A.ActorStoppedError('a', 'stopped'),
  ActorCrashedError: () => new A.ActorCrashedError('a', cause),
  IllegalTransitionError: () => new A.IllegalTransitionError('a', 'stopped', 'running'),
  DependencyCycleError: () => new A.DependencyCycleError(['a', 'b', 'a']),
  NoRouteError: () => new A.NoRouteError('topic:x'),
  EscalationError: () => new A.EscalationError('sup', 3, 1000, cause),
  RemoteError: () => new A.RemoteError('Error', 'remote boom', 'error'),
  ChildStartError: () => new A.ChildStartError('sup', 'child', cause),
  HealthCheckFailedError: () => new A.HealthCheckFailedError('a', 3),
  WorkerExitedError: () => new A.WorkerExitedError('a', 1),
  HeartbeatMissedError: () => new A.HeartbeatMissedError('a', 3000),
  WorkerStartError: () => new A.WorkerStartError('a', 'no module', cause),
  // protocol
  ProtocolError: () => new P.ProtocolError('example', 'an example'),
  DecodeError: () => new P.DecodeError('$.slot', 'expected a number'),
  VerificationError: () => new P.VerificationError('approvals.threshold', 'too few approvals'),
  AuthorityScheduleError: () => new P.AuthorityScheduleError('authority-schedule.height', 'not above the last change'),
  // node
  LightNodeError: () => new N.LightNodeError('example', 'an example'),
  NotSyncedError: () => new N.NotSyncedError('head'),
  NoSourceError: () => new N.NoSourceError('blocks', 'all banned'),
  BelowHistoryError: () => new N.BelowHistoryError(5, 100),
  MetricsUnavailableError: () => new N.MetricsUnavailableError('the metrics actor gave up'),
  NodeWorkerError: () => new webApi.NodeWorkerError('node-worker.closed', 'this node was closed'),
  CheckpointError: () => new N.CheckpointError('unknown', 'no source knows the checkpoint'),
  StorageError: () => new N.StorageError('memory', 'put', cause),
  EndpointVerificationError: () =>
    new N.EndpointVerificationError('receipts.root', 'mismatch', {
      endpoint: 'http://x',
      method: 'eth_getBlockReceipts',
    }),
  EndpointRequestError: () =>
    new N.EndpointRequestError('transport', 'refused', { endpoint: 'http://x', method: 'eth_getBalance' }),
  AllEndpointsFailedError: () =>
    new N.AllEndpointsFailedError('eth_getBalance', [
      new N.EndpointRequestError('transport', 'refused', { endpoint: 'http://x', method: 'eth_getBalance' }),
    ]),
  BlockNotVerifiedError: () => new N.BlockNotVerifiedError(5n),
  LogQueryLimitError: () => new N.LogQueryLimitError('blocks', 1000, '5000'),
  ProviderRpcError: () => new N.ProviderRpcError(N.ProviderErrorCode.unsupportedMethod, 'unsupported'),
  // config
  ConfigError: () =>
    new N.ConfigError([
      {
        code: 'invalid-value',
        key: 'mode',
        path: 'mode',
        expected: "'full' | 'pow-checkpoint'",
        got: 'fast',
        source: 'cli',
        origin: '--mode',
      },
    ]),
  ConfigNetworkError: () => new N.ConfigNetworkError('devnet', null, 'no spec', { hint: 'pass --network' }),
  ConfigRestartRequiredError: () =>
    new N.ConfigRestartRequiredError(['mode'], [{ key: 'mode', from: 'full', to: 'x' }]),
  ConfigApplyError: () => new N.ConfigApplyError(['sync.parallelism'], cause, { ok: true }),
};

/** Error classes that are not re-exported from an entry point but reach embedders (thrown or as `cause`). */
const internal: Record<string, () => Error> = {
  TimeoutError: () => new TimeoutError('timed out after 5 ms'),
  GossipTooLargeError: () => new GossipTooLargeError('too big'),
  ConfigSyntaxError: () => new ConfigSyntaxError('alys.toml', 1, 2, 'unexpected ='),
  ConfigFileError: () => new ConfigFileError('alys.toml', 'no such file'),
  ConfigClosedError: () => new ConfigClosedError(),
  SourceError: () => new SourceError('http://x', 'timeout', 'no answer'),
  P2pError: () => new P2pError('dial', '12D3KooW', 'unreachable'),
  CorruptStoreError: () => new CorruptStoreError('head digest mismatch'),
  FederationRecordError: () => new FederationRecordError('checksum mismatch'),
  FederationChangeError: () => new FederationChangeError('federation.change-below-head', 'blocks are verified'),
};

function exportedErrorClasses(): Map<string, new (...args: never[]) => Error> {
  const found = new Map<string, new (...args: never[]) => Error>();
  for (const api of [webApi, nodejsApi, actorsApi, protocolApi])
    for (const [name, value] of Object.entries(api))
      if (typeof value === 'function' && value.prototype instanceof Error)
        found.set(name, value as new (...args: never[]) => Error);
  return found;
}

describe('one error family', () => {
  const exported = exportedErrorClasses();

  it('finds the exported error classes (the walk works)', () => {
    expect(exported.size).toBeGreaterThan(30);
    expect(exported.get('AlysLightError')).toBe(AlysLightError);
  });

  it('every exported error class extends AlysLightError and has a sample here', () => {
    for (const [name, cls] of exported) {
      expect(cls === AlysLightError || cls.prototype instanceof AlysLightError, `${name} extends AlysLightError`).toBe(
        true,
      );
      expect(samples[name], `a sample of ${name} in test/errors.test.ts`).toBeDefined();
    }
  });

  it.each(Object.entries({ ...samples, ...internal }))('%s carries a stable code', (name, make) => {
    const err = make();
    expect(err).toBeInstanceOf(AlysLightError);
    expect(err.name).toBe(name);
    if (!(err instanceof AlysLightError)) return;
    if (name === 'ProviderRpcError')
      expect(Number.isInteger(err.code)).toBe(true); // EIP-1193 wants a number
    else {
      expect(typeof err.code).toBe('string');
      expect(err.code).not.toBe('');
    }
    expect(err.message.startsWith(err.shortMessage)).toBe(true);
    expect(String(err)).toBe(`${name} [${err.code}]: ${err.message}`);
  });

  it('area bases stay in between', () => {
    expect(new A.AskTimeoutError('a', 1)).toBeInstanceOf(A.ActorError);
    expect(new P.DecodeError('$', 'x')).toBeInstanceOf(P.ProtocolError);
    expect(samples['EndpointVerificationError']!()).toBeInstanceOf(P.VerificationError);
    expect(new N.NotSyncedError('head')).toBeInstanceOf(N.LightNodeError);
    expect(samples['ConfigError']!()).toBeInstanceOf(ConfigBaseError);
    expect(new ConfigFileError('f', 'x')).toBeInstanceOf(ConfigBaseError);
  });

  it('codes of errors that had none before', () => {
    const codes = Object.fromEntries(
      Object.entries({ ...samples, ...internal }).map(([name, make]) => [name, (make() as AlysLightError).code]),
    );
    expect(codes).toMatchObject({
      TimeoutError: 'timeout',
      GossipTooLargeError: 'gossip.too-large',
      StorageError: 'storage.failed',
      CorruptStoreError: 'storage.corrupt',
      SourceError: 'source.timeout',
      P2pError: 'p2p.dial',
      EndpointRequestError: 'endpoint.transport',
      AllEndpointsFailedError: 'endpoint.all-failed',
      BlockNotVerifiedError: 'block-not-verified',
      LogQueryLimitError: 'log-query-limit',
      ProviderRpcError: 4200,
    });
  });

  it('every error the node worker can throw crosses to the page as its own class, fields kept (errors-wire)', () => {
    for (const [name, make] of Object.entries({ ...samples, ...internal })) {
      if (name === 'NodeWorkerError') continue; // raised on the page itself
      const original = make();
      const back = fromWireError(structuredClone(toWireError(original)));
      expect(back.constructor, name).toBe(original.constructor);
      expect(fieldsOf(back), name).toEqual(fieldsOf(original));
    }
  });

  it('formats details and hint after the short message', () => {
    const err = new AlysLightError('example', 'short', { details: 'more', hint: 'do this', cause });
    expect(err.message).toBe('short\n\nDetails: more\n\nHint: do this');
    expect(err.cause).toBe(cause);
    expect(new AlysLightError('example', 'short', { details: 'a\nb' }).message).toBe('short\n\nDetails:\na\nb');
    expect('cause' in new AlysLightError('example', 'short')).toBe(false);
  });
});

describe('config mistakes are ConfigErrors', () => {
  it('an unknown key (was a TypeError) is a ConfigError naming the key', () => {
    const r = resolveConfig({ runtime: 'node', layers: [] });
    for (const attempt of [() => keyInfo('sync.nope' as ConfigKey), () => r.sourceOf('sync.nope' as ConfigKey)]) {
      let caught: unknown;
      try {
        attempt();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(N.ConfigError);
      expect(caught).not.toBeInstanceOf(TypeError);
      expect(caught).toMatchObject({ code: 'config.unknown-key', key: 'sync.nope' });
      expect((caught as Error).message).toContain('sync.nope');
    }
  });
});

describe('values that pass the schema but not the place they reach are ConfigErrors (were TypeErrors)', () => {
  const config = resolveConfig({ runtime: 'node', layers: [] }).config;
  async function caughtOf(attempt: () => unknown): Promise<unknown> {
    try {
      await attempt();
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it('storage = indexeddb in Node names the key', async () => {
    const platform = createNodePlatform(config);
    const caught = await caughtOf(() => platform.openStore(DEV_CHAIN_SPEC, { ...config, storage: 'indexeddb' }));
    expect(caught).toBeInstanceOf(N.ConfigError);
    expect(caught).toMatchObject({ code: 'config.invalid-value', key: 'storage', got: 'indexeddb' });
  });

  it('evmRpc given straight to createVerifiedReads must be http(s) URLs', async () => {
    const payloads = { payload: async () => undefined } as never;
    for (const evmRpc of [[], ['ftp://example.invalid']]) {
      const caught = await caughtOf(() => createVerifiedReads({ evmRpc, payloads }));
      expect(caught).toBeInstanceOf(N.ConfigError);
      expect(caught).toMatchObject({ code: 'config.invalid-value', key: 'evmRpc' });
    }
  });
});

/** An error's message and own fields, with errors among them as [class, message] (they carry stacks and causes). */
function fieldsOf(err: Error): Record<string, unknown> {
  const show = (v: unknown): unknown =>
    v instanceof Error ? [v.constructor, v.message] : Array.isArray(v) ? v.map(show) : v;
  return Object.fromEntries([['message', err.message], ...Object.entries(err)].map(([k, v]) => [k, show(v)]));
}
