/**
 * Global setup of the package project (`npm run test:package`): the library is built and packed once
 * (`npm run build:lib`, `npm pack`) for every test file, which installs it with `inject('packageTarball')`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { packTarball } from '../package/consumer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The packed alys-light tarball (an absolute path; removed after the run). */
    packageTarball: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'alys-light-tarball-'));
  project.provide('packageTarball', await packTarball(dir));
  return () => rm(dir, { recursive: true, force: true });
}
