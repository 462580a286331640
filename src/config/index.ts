/**
 * The light node's configuration (browser-safe part): schema and defaults, layers, resolution with
 * sources, network selection, and the hot-reload manager. Node's file/env loading and file watching
 * are in `./nodejs/index.js`.
 */
export * from './errors.js';
export { editDistance, suggest } from './suggest.js';
export {
  either,
  integer,
  listOf,
  matching,
  nullable,
  oneOf,
  path,
  url,
  type Checked,
  type ValueSpec,
} from './fields.js';
export * from './schema.js';
export * from './layers.js';
export * from './load.js';
export * from './network.js';
export * from './reload.js';
export * from './url-keys.js';
