/**
 * Global setup of the Workers suite (runs in Node, before workerd starts): builds the verify inputs
 * (cases.ts) and provides them to the tests inside workerd, which cannot read files.
 */
import type { TestProject } from 'vitest/node';
import { buildBundleCases, type BundleCases } from '../helpers/bundles.js';
import { buildEdgeCases, type EdgeCases } from './cases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    edgeCases: EdgeCases;
    /** Proof bundles made by a light node on a devnet (test/helpers/bundles.ts). */
    bundleCases: BundleCases;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('edgeCases', await buildEdgeCases());
  project.provide('bundleCases', await buildBundleCases());
}
