import { serveActorsInNodeWorker } from '../../platform/node/worker.js';
import { Hasher } from './actors.js';

serveActorsInNodeWorker([Hasher]);
