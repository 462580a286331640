// Worker bootstrap (plain ESM, so Node can start it without a TypeScript loader): registers tsx's
// loader in this worker thread, then runs the TypeScript entry named in workerData.entry.
import { workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
await import(workerData.entry);
