/** The example wallet's Vite config: module workers (the light node's verifiers run in one). */
export default {
  build: { target: 'es2022', chunkSizeWarningLimit: 1024 },
  worker: { format: 'es' },
};
