/**
 * Every official BLS vector (shared/vectors/bls-eth2.json) against every backend that loads in
 * Node: noble and wasm always, blst where the optional @chainsafe/blst is installed.
 */
import { beforeAll, describe } from 'vitest';
import { createBlsBackend, type BlsBackend, type BlsBackendName } from '../../../src/protocol/bls/index.js';
import { describeVectors, loadVectors } from '../../helpers/vectors.js';
import { blsVectorSuite, type BlsVectors } from './suite.js';

const blstLoads = await createBlsBackend('blst').then(
  () => true,
  () => false,
);

for (const name of ['noble', 'wasm', 'blst'] as BlsBackendName[]) {
  if (name === 'blst' && !blstLoads) {
    describe.skip('official BLS vectors (blst: skipped, @chainsafe/blst does not load here)', () => {});
    continue;
  }
  describeVectors(`official BLS vectors (${name})`, () => {
    let backend: BlsBackend;
    beforeAll(async () => {
      backend = await createBlsBackend(name);
    });
    blsVectorSuite(loadVectors<BlsVectors>('bls-eth2.json'), () => backend);
  });
}
