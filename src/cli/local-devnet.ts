/**
 * The devnet `npm start` (src/cli/start.ts) and `npm run edge` (src/cli/edge.ts) run: quiet, on the
 * default ports (consensus RPC :3000, EVM RPC :8545, Esplora :3002), or free ports when one is taken.
 */
import { createDevnet, type Devnet } from '../devnet/devnet.js';

export async function startLocalDevnet(): Promise<Devnet> {
  const quiet = { log: () => {} };
  try {
    return await createDevnet({ ...quiet, consensusPort: 3000, evmPort: 8545, esploraPort: 3002 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    console.error('devnet: a default port is taken; using free ports');
    return createDevnet({ ...quiet, consensusPort: 0, evmPort: 0, esploraPort: 0 });
  }
}
