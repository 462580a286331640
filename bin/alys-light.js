#!/usr/bin/env node
// Launcher for the TypeScript sources (tsx registers the loader). `npm run alys-light -- <args>` also works.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
