// Node 20 lacks Promise.withResolvers, which libp2p and its helpers use. Browsers and workerd have it.
import '../../src/platform/nodejs/polyfills.js';

// The Node entry points register the native BLS backend (createBlsBackend('blst' | 'auto')); so do the tests.
import { registerNativeBlsBackend } from '../../src/platform/nodejs/bls-blst.js';

registerNativeBlsBackend();
