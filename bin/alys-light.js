#!/usr/bin/env node
// The `alys-light` command. Installed from the package it runs the built dist/src/cli/main.js with
// plain node. In a checkout (the TypeScript sources are next to it) it runs the sources through tsx,
// a devDependency, so a stale dist never shadows them. `npm run alys-light -- <args>` also works.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}
