// Node 20 lacks Promise.withResolvers, which libp2p and its helpers use. Browsers and workerd have it.
import '../../src/platform/nodejs/polyfills.js';
