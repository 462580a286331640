/**
 * `npm run bench -- <name>`: runs bench/<name>.ts, which prints one JSON line per measurement:
 * {"name","unit","value"} plus, where there is one, the same-run "baseline" and "ratio" (= value / baseline).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import '../src/platform/nodejs/polyfills.js';
import { registerNativeBlsBackend } from '../src/platform/nodejs/bls-blst.js';

registerNativeBlsBackend();

const name = process.argv[2];
const file = name && fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
if (!name || !existsSync(file!)) {
  console.error(`usage: npm run bench -- <name>   (a file bench/<name>.ts; e.g. actors)`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(file!).href)) as { run(): Promise<void> };
await mod.run();
