/**
 * `npm start`. Until the light node exists (issue 5) this runs a short demo of the actor runtime:
 * a supervision tree with an actor in a worker_threads Worker and one in-thread, messages across
 * the boundary, an injected crash and the supervisor's restart, the registry and the metrics.
 */
import '../platform/node/polyfills.js';
import { createActorSystem, exponentialBackoff, workerPlacement } from '../actors/index.js';
import { nodeWorkerSpawnerFor } from '../platform/node/worker.js';
import { Collector, Hasher } from './demo/actors.js';

const spawn = await nodeWorkerSpawnerFor(new URL('./demo/hasher.node-worker.ts', import.meta.url));
const system = createActorSystem({
  name: 'demo',
  root: {
    strategy: 'one-for-all',
    children: [
      { id: 'collector', actor: Collector },
      {
        id: 'work',
        supervisor: {
          strategy: 'one-for-one',
          intensity: { maxRestarts: 5, periodMs: 10_000 },
          children: [
            {
              id: 'hasher',
              actor: Hasher,
              placement: workerPlacement(spawn),
              policy: exponentialBackoff({ initialMs: 10, maxMs: 1_000 }),
              mailbox: { capacity: 10_000, overflow: 'block' },
            },
          ],
        },
      },
    ],
  },
});
system.onEvent((e) => {
  if (e.type === 'child-failed') console.log(`  supervisor ${e.address}: child ${e.child} failed (${e.error})`);
  if (e.type === 'child-restarted') console.log(`  supervisor ${e.address}: restarted ${e.child}`);
});

console.log('Alys Light - actor runtime demo (the light node replaces this in a later issue)\n');
await system.start();
system.subscribe('hashed', '/demo/collector');
const hasher = system.ref<typeof Hasher>('/demo/work/hasher');
const collector = system.ref<typeof Collector>('/demo/collector');

const N = 20_000;
let t0 = performance.now();
await Promise.all(Array.from({ length: N }, (_, i) => hasher.tell({ type: 'hash', data: `block ${i}` })));
console.log(`worker handled: ${await hasher.ask({ type: 'count' })} hashes in ${(performance.now() - t0).toFixed(0)} ms`);
console.log(`sha256("block 0") from the worker: ${await hasher.ask({ type: 'hash', data: 'block 0' })}`);

console.log('\ninjecting a crash into the worker...');
t0 = performance.now();
await hasher.ask({ type: 'crash' }).catch((e: Error) => console.log(`  ask rejected: ${e.message}`));
const count = await hasher.ask({ type: 'count' });
console.log(`restarted worker answered after ${(performance.now() - t0).toFixed(0)} ms (fresh state: count = ${count})`);
console.log(`collector saw ${await collector.ask({ type: 'seen' })} 'hashed' events on the bus\n`);

console.log('registry:');
for (const i of system.registry.list())
  console.log(`  ${i.address.padEnd(22)} ${i.type.padEnd(11)} ${i.placement.padEnd(10)} ${i.state.padEnd(8)} restarts=${i.restarts} messages=${i.messages}`);
console.log('\nmetrics (Prometheus text, excerpt):');
for (const line of system.metrics.render().split('\n')) if (line.startsWith('actor_messages_processed_total') || line.startsWith('actor_restarts_total{address="/demo/work/hasher"')) console.log(`  ${line}`);

await system.shutdown();
console.log('\nshut down cleanly.');
