/** Node-only config parts: the file/env/flags loader, chain spec loading, and the config file watcher. */
export * from './load.js';
export * from './network.js';
export * from './private-dir.js';
export * from './watch.js';
