/**
 * Global setup of the browser project: the browser cannot read the filesystem, so the shared
 * known-answer vectors are read here, in Node, and handed to the browser tests with vitest's
 * provide/inject (`inject('blsVectors')`). `null` when the vectors directory is absent (the
 * browser suites then skip, like describeVectors does in Node). Nothing is copied into the repo.
 */
import type { TestProject } from 'vitest/node';
import { loadVectors, vectorsAvailable, vectorsDir } from '../helpers/vectors.js';
import type { BlsVectors } from '../protocol/bls/suite.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** shared/vectors/bls-eth2.json, or null when $ALYS_VECTORS is absent. */
    blsVectors: BlsVectors | null;
    /** Where the vectors were looked for (for skip messages). */
    vectorsDir: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide('vectorsDir', vectorsDir);
  project.provide('blsVectors', vectorsAvailable ? loadVectors<BlsVectors>('bls-eth2.json') : null);
}
