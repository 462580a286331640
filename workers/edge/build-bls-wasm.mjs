// Writes workers/edge/generated/bls_c.wasm: the wasm that bls-eth-wasm embeds as base64 in its
// src/bls_c.js, as a file the Worker imports (a compiled module: Workers refuse to compile wasm
// from bytes at run time). Run by wrangler's [build] command, the Workers test config and `npm run edge`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function writeBlsWasm() {
  const glue = readFileSync(createRequire(import.meta.url).resolve('bls-eth-wasm/src/bls_c.js'), 'utf8');
  const match = /const wasmBase64 = '([A-Za-z0-9+/=]+)'/.exec(glue);
  if (!match) throw new Error('bls-eth-wasm layout changed: no wasmBase64 string in src/bls_c.js');
  const out = join(dirname(fileURLToPath(import.meta.url)), 'generated', 'bls_c.wasm');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, Buffer.from(match[1], 'base64'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeBlsWasm();
