/**
 * The messages between a page and the node worker (plain data, structured clone). One connection is
 * one page (a SharedWorker port, or a MessagePort the leader tab hands its dedicated worker for
 * itself and for each follower tab). Requests carry an id; events are pushed by name, any name.
 */
import type { ChainSpec } from '../../../protocol/types.js';
import type { ConfigInput } from '../../../config/schema.js';
import type { WireError } from './errors-wire.js';

/** What the worker needs to build the node (functions cannot cross: names and values only). */
export interface NodeInit {
  spec: ChainSpec;
  /** The spec's JSON text when the page was given that (`spec` is then read without the key checks, which the worker makes). */
  specJson?: string;
  /** The page's resolved config values (options and URL parameters already applied). */
  config: ConfigInput;
  databaseName: string;
  engines?: number;
  subscriptionMaxLag?: number;
}

export type NodeMethod =
  | 'start'
  | 'stop'
  | 'status'
  | 'metrics'
  | 'metricsSnapshot'
  | 'updateConfig'
  | 'request'
  /** `node.bridge`: args `[method, arg?]`, method one of {@link BRIDGE_METHODS}. */
  | 'bridge';

/** The `node.bridge` methods the worker answers. */
export const BRIDGE_METHODS = [
  'depositAddress',
  'trackPegIn',
  'trackPegOut',
  'trackAddress',
  'pegStatus',
  'pegs',
] as const;

export type ToNodeWorker =
  | { t: 'open'; key: string; init: NodeInit }
  | { t: 'call'; id: number; method: NodeMethod; args: unknown[] }
  /** Subscribe to / unsubscribe from a node event (`node.on`) or a provider event (`provider.on`). */
  | { t: 'on' | 'off'; target: 'node' | 'provider'; event: string }
  | { t: 'ping'; seq: number }
  /** This page runs libp2p for the node (the p2p bridge's port is transferred with it; src/platform/browser/p2p-bridge/). */
  | { t: 'p2p-attach' }
  /** This page is gone (closed, or handed its node over). */
  | { t: 'close' }
  /** Tests: throw an uncaught error in the worker (a crash). */
  | { t: 'test-crash' };

export type FromNodeWorker =
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: WireError }
  | { t: 'event'; target: 'node' | 'provider'; event: string; args: unknown[] }
  | { t: 'pong'; seq: number }
  /** An uncaught error in the worker: its nodes are retired; reconnect (a crash, said at once, not left to heartbeats). */
  | { t: 'crashed'; detail: string };

/** A dedicated worker gets each connection as a port: `{ t: 'connect' }` with the port transferred. */
export interface ConnectMessage {
  t: 'connect';
}
