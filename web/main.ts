/** Dashboard placeholder: the actor runtime in the page, a worker-hosted actor, a crash and its restart. */
import { createActorSystem, exponentialBackoff, workerPlacement } from '../src/actors/index.js';
import { Hasher } from '../src/cli/demo/actors.js';
import { webWorkerSpawner } from '../src/platform/browser/worker.js';

const out = document.getElementById('log')!;
const log = (line: string) => (out.textContent += `${line}\n`);

const spawn = webWorkerSpawner(() => new Worker(new URL('../workers/actor-host.ts', import.meta.url), { type: 'module' }));
const system = createActorSystem({
  name: 'web',
  root: {
    strategy: 'one-for-one',
    children: [{ id: 'hasher', actor: Hasher, placement: workerPlacement(spawn), policy: exponentialBackoff({ initialMs: 10 }) }],
  },
});
system.onEvent((e) => {
  if (e.type === 'child-restarted') log(`supervisor restarted ${e.child}`);
});

await system.start();
const hasher = system.ref<typeof Hasher>('/web/hasher');
const t0 = performance.now();
await Promise.all(Array.from({ length: 5000 }, (_, i) => hasher.tell({ type: 'hash', data: `block ${i}` })));
log(`worker hashed ${await hasher.ask({ type: 'count' })} blocks in ${(performance.now() - t0).toFixed(0)} ms`);
await hasher.ask({ type: 'crash' }).catch((e: Error) => log(`crash: ${e.message}`));
log(`after restart: count = ${await hasher.ask({ type: 'count' })}`);
document.body.dataset.ready = 'true';
