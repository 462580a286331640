/** Loading the chain spec a config selects (Node: reads spec files). */
import { readFileSync } from 'node:fs';
import { lightNodeChainSpec, parseChainSpecJson } from '../../protocol/chainspec.js';
import type { ChainSpec } from '../../protocol/types.js';
import { ConfigNetworkError } from '../errors.js';
import { resolveNetwork, type NetworkChoice } from '../network.js';
import type { LightNodeConfig } from '../schema.js';
import { dirname } from 'node:path';
import { defaultDevnetSpecFile } from './load.js';
import { privateDirProblem } from './private-dir.js';

/** {@link resolveNetwork} with the devnet's default spec path filled in. */
export function resolveNodeNetwork(config: Pick<LightNodeConfig, 'network' | 'chainSpecFile'>): NetworkChoice {
  return resolveNetwork(config, { devnetSpecFile: defaultDevnetSpecFile() });
}

/** Why the directories holding the default devnet spec `file` are not private to this user, or null. */
function unsafeDirProblem(file: string): string | null {
  for (const dir of [dirname(dirname(file)), dirname(file)]) {
    const problem = privateDirProblem(dir);
    if (problem !== null) return `${dir} is not private to you: ${problem}`;
  }
  return null;
}

/** The chain spec for `config.network`. Throws ConfigNetworkError saying what to do. */
export async function loadChainSpec(config: Pick<LightNodeConfig, 'network' | 'chainSpecFile'>): Promise<ChainSpec> {
  return loadChainSpecSync(config);
}

/** {@link loadChainSpec}, synchronously (a spec file is small; library entry points return a node at once). */
export function loadChainSpecSync(config: Pick<LightNodeConfig, 'network' | 'chainSpecFile'>): ChainSpec {
  const choice = resolveNodeNetwork(config);
  if (choice.kind === 'shipped') return lightNodeChainSpec(choice.name);
  const file = choice.specFile!;
  const hint =
    choice.kind === 'devnet'
      ? `Start the devnet (\`npm run devnet\`), or point chainSpecFile (--chain-spec-file, ALYS_CHAIN_SPEC_FILE) at its chain-spec.json${choice.fromDefault ? ' (this is the default path for seed alys-devnet)' : ''}.`
      : 'Check the path in network (--network, ALYS_NETWORK).';
  // the default devnet path is predictable: read it only from a directory private to this user
  const unsafe = choice.kind === 'devnet' && choice.fromDefault ? unsafeDirProblem(file) : null;
  if (unsafe !== null) throw new ConfigNetworkError(config.network, file, unsafe, { hint });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ConfigNetworkError(config.network, file, code === 'ENOENT' ? 'no such file' : (cause as Error).message, {
      hint,
      cause,
    });
  }
  try {
    return parseChainSpecJson(text);
  } catch (cause) {
    throw new ConfigNetworkError(config.network, file, `not a valid chain spec: ${(cause as Error).message}`, {
      hint,
      cause,
    });
  }
}
