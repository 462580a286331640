/**
 * Errors across the node worker's boundary: thrown in the worker, sent as plain data, rebuilt on the
 * page as the same class (`instanceof ProviderRpcError`, `ConfigError`, ...) with the same fields
 * (`code`, `check`, `details`, `hint`, `data`, ...). The one serializer is used both ways.
 *
 * A class is found by its `name` in {@link ERROR_CLASSES}; an unknown name becomes an
 * `AlysLightError` when it has a code, a plain `Error` otherwise. Fields that cannot be cloned are
 * dropped; `cause` is carried the same way (one level deep is enough to read it).
 */
import { AlysLightError } from '../../../errors.js';
import {
  ActorCrashedError,
  ActorError,
  ActorStoppedError,
  AskTimeoutError,
  ChildStartError,
  DependencyCycleError,
  EscalationError,
  HealthCheckFailedError,
  HeartbeatMissedError,
  IllegalTransitionError,
  MailboxFullError,
  MailboxTimeoutError,
  NoRouteError,
  RemoteError,
  WorkerExitedError,
  WorkerStartError,
} from '../../../actors/errors.js';
import { TimeoutError } from '../../../actors/timeout.js';
import {
  ConfigApplyError,
  ConfigBaseError,
  ConfigClosedError,
  ConfigError,
  ConfigFileError,
  ConfigNetworkError,
  ConfigRestartRequiredError,
  ConfigSyntaxError,
} from '../../../config/errors.js';
import {
  AllEndpointsFailedError,
  BlockNotVerifiedError,
  EndpointRequestError,
  EndpointVerificationError,
  LogQueryLimitError,
  ProviderRpcError,
} from '../../../node/engine/errors.js';
import {
  BelowHistoryError,
  FederationChangeError,
  FederationRecordError,
  LightNodeError,
  MetricsUnavailableError,
  NoSourceError,
  NotSyncedError,
} from '../../../node/errors.js';
import { P2pError } from '../../../node/network/errors.js';
import { CheckpointError, ResponseTooLargeError, SourceError } from '../../../node/sources/errors.js';
import { CorruptStoreError } from '../../../node/storage/errors.js';
import { StorageError } from '../../../node/storage/kv.js';
import { AuthorityScheduleError, DecodeError, ProtocolError, VerificationError } from '../../../protocol/errors.js';
import { GossipTooLargeError } from '../../../protocol/p2p/errors.js';

/** An error as data (structured-clone safe). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Own fields of the error (code, shortMessage, details, hint, check, data, ...). */
  fields: Record<string, unknown>;
  cause?: WireError;
}

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Every error class of the library the node can throw, by the `name` its instances carry (written out:
 * a consumer's minifier may rename the classes themselves). Named imports, not namespaces: the library
 * build would otherwise add a runtime helper chunk outside dist/src.
 */
export const ERROR_CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ['AlysLightError', AlysLightError],
  ['ActorError', ActorError],
  ['AskTimeoutError', AskTimeoutError],
  ['MailboxFullError', MailboxFullError],
  ['MailboxTimeoutError', MailboxTimeoutError],
  ['ActorStoppedError', ActorStoppedError],
  ['ActorCrashedError', ActorCrashedError],
  ['IllegalTransitionError', IllegalTransitionError],
  ['DependencyCycleError', DependencyCycleError],
  ['NoRouteError', NoRouteError],
  ['EscalationError', EscalationError],
  ['RemoteError', RemoteError],
  ['ChildStartError', ChildStartError],
  ['HealthCheckFailedError', HealthCheckFailedError],
  ['TimeoutError', TimeoutError],
  ['HeartbeatMissedError', HeartbeatMissedError],
  ['WorkerExitedError', WorkerExitedError],
  ['WorkerStartError', WorkerStartError],
  ['ConfigBaseError', ConfigBaseError],
  ['ConfigError', ConfigError],
  ['ConfigSyntaxError', ConfigSyntaxError],
  ['ConfigFileError', ConfigFileError],
  ['ConfigNetworkError', ConfigNetworkError],
  ['ConfigRestartRequiredError', ConfigRestartRequiredError],
  ['ConfigApplyError', ConfigApplyError],
  ['ConfigClosedError', ConfigClosedError],
  ['EndpointVerificationError', EndpointVerificationError],
  ['EndpointRequestError', EndpointRequestError],
  ['AllEndpointsFailedError', AllEndpointsFailedError],
  ['BlockNotVerifiedError', BlockNotVerifiedError],
  ['LogQueryLimitError', LogQueryLimitError],
  ['ProviderRpcError', ProviderRpcError],
  ['LightNodeError', LightNodeError],
  ['NotSyncedError', NotSyncedError],
  ['BelowHistoryError', BelowHistoryError],
  ['MetricsUnavailableError', MetricsUnavailableError],
  ['NoSourceError', NoSourceError],
  ['P2pError', P2pError],
  ['ResponseTooLargeError', ResponseTooLargeError],
  ['SourceError', SourceError],
  ['CheckpointError', CheckpointError],
  ['StorageError', StorageError],
  ['CorruptStoreError', CorruptStoreError],
  ['FederationRecordError', FederationRecordError],
  ['FederationChangeError', FederationChangeError],
  ['AuthorityScheduleError', AuthorityScheduleError],
  ['ProtocolError', ProtocolError],
  ['DecodeError', DecodeError],
  ['VerificationError', VerificationError],
  ['GossipTooLargeError', GossipTooLargeError],
]);

/** `err` as data; anything thrown (not only Errors). */
export function toWireError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    if (key === 'cause' || key === 'message' || key === 'stack') continue;
    const value = (err as unknown as Record<string, unknown>)[key];
    if (typeof value === 'function') continue;
    try {
      fields[key] = errorsAsWire(value, depth) ?? structuredClone(value);
    } catch {
      // not cloneable: left out
    }
  }
  const out: WireError = { name: err.name, message: err.message, fields };
  if (err.stack !== undefined) out.stack = err.stack;
  if (err.cause !== undefined && depth < 2) out.cause = toWireError(err.cause, depth + 1);
  return out;
}

/** The error `wire` describes, as an instance of its class (see the module comment). */
export function fromWireError(wire: WireError): Error {
  const known = ERROR_CLASSES.get(wire.name) ?? ERROR_CLASSES.get(String(wire.fields.name));
  const proto = known?.prototype ?? (wire.fields.code !== undefined ? AlysLightError.prototype : Error.prototype);
  const err = Object.create(proto) as Error;
  Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', { value: wire.stack ?? '', writable: true, configurable: true });
  for (const [key, value] of Object.entries(wire.fields))
    (err as unknown as Record<string, unknown>)[key] = wireAsErrors(value);
  if (!Object.hasOwn(err, 'name')) Object.defineProperty(err, 'name', { value: wire.name, writable: true });
  if (wire.cause !== undefined)
    Object.defineProperty(err, 'cause', { value: fromWireError(wire.cause), writable: true, configurable: true });
  return err;
}

/** A field holding errors (e.g. `AllEndpointsFailedError.errors`): each as a WireError, so each keeps its class. */
interface WireErrors {
  wireErrors: WireError[];
  single: boolean;
}

function errorsAsWire(value: unknown, depth: number): WireErrors | undefined {
  if (value instanceof Error) return { wireErrors: [toWireError(value, depth + 1)], single: true };
  if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Error))
    return { wireErrors: value.map((v) => toWireError(v, depth + 1)), single: false };
  return undefined;
}

function wireAsErrors(value: unknown): unknown {
  const w = value as Partial<WireErrors> | null;
  if (typeof w !== 'object' || w === null || !Array.isArray(w.wireErrors) || typeof w.single !== 'boolean')
    return value;
  const errors = w.wireErrors.map(fromWireError);
  return w.single ? errors[0] : errors;
}
