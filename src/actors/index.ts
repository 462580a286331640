/**
 * The actor runtime: supervised actors with typed messages, bounded mailboxes, registry, bus and
 * metrics. No Alys knowledge and no platform globals; placement in workers plugs in through
 * `workerPlacement` with a platform spawner (src/platform/{nodejs,browser}).
 */
export { defineActor, replyError } from './actor.js';
export type {
  Actor,
  ActorContext,
  ActorDefinition,
  ActorRef,
  AskOptions,
  Message,
  MessageOf,
  RefOf,
  RepliesOf,
  ReplyMap,
  SendOptions,
} from './actor.js';
export { createActorSystem, ActorSystem } from './system.js';
export type { ActorSystemOptions, Termination } from './system.js';
export {
  Supervisor,
  child,
  inThread,
  ChildStartError,
  HealthCheckFailedError,
  DEFAULT_INTENSITY,
} from './supervisor.js';
export type {
  ActorChildSpec,
  ChildSpec,
  HealthCheckOptions,
  Intensity,
  PlacementFactory,
  RestartType,
  Strategy,
  SupervisionEvent,
  SupervisorChildSpec,
  SupervisorSpec,
} from './supervisor.js';
export { exponentialBackoff, circuitBreaker, never, immediate } from './restart.js';
export type {
  RestartPolicy,
  RestartTracker,
  RestartDecision,
  CircuitState,
  ExponentialBackoffOptions,
  CircuitBreakerOptions,
} from './restart.js';
export { Mailbox, DEFAULT_MAILBOX } from './mailbox.js';
export type { MailboxOptions, OverflowPolicy, MailboxStats } from './mailbox.js';
export { Lifecycle, TRANSITIONS, canTransition } from './lifecycle.js';
export type { LifecycleState } from './lifecycle.js';
export type { Envelope, Priority, Routing } from './envelope.js';
export { PRIORITIES } from './envelope.js';
export { Registry } from './registry.js';
export type { ActorInfo, Health, Placement, RegistryEntry } from './registry.js';
export { Bus } from './bus.js';
export type { GroupStrategy } from './bus.js';
export { DeadLetterQueue } from './dead-letters.js';
export type { DeadLetter, DeadLetterReason } from './dead-letters.js';
export { MetricsRegistry, Counter, Gauge, Histogram } from './metrics.js';
export { realClock, createTestClock, createRandom } from './clock.js';
export type { Clock, Random, TestClock } from './clock.js';
export * from './errors.js';
export { AlysLightError, type AlysLightErrorOptions } from '../errors.js';
export {
  workerPlacement,
  WorkerCell,
  WorkerExitedError,
  HeartbeatMissedError,
  WorkerStartError,
} from './worker/cell.js';
export type { WorkerPlacementOptions } from './worker/cell.js';
export { serveActors } from './worker/host.js';
export type { WorkerEndpoint, WorkerSpawner, HostPort, ToWorker, FromWorker } from './worker/protocol.js';
