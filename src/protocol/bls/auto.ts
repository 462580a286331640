/**
 * The `auto` BLS backend where no native backend is registered (browsers, Workers, Node without
 * blst): noble (pure JS, ~35 KB Brotli in a bundle) answers at once, so a page's first verified head
 * (one block's approvals, then the finality walk: a handful of checks) neither downloads nor waits for
 * the wasm backend (~96 KB Brotli, several times faster per check). {@link AutoBlsBackend.upgrade}
 * loads the wasm in the background; every call after it is ready uses it. The node upgrades once its
 * start is done, a verifier before its first batch (bulk work).
 *
 * Prepared public keys are this backend's own: each holds its bytes and the key prepared by every
 * backend that used it (the next one prepares on first use), so authorities prepared before the
 * switch stay valid after it.
 */
import { type BlsBackend, type BlsBackendName, foreignPreparedKey, type PreparedPublicKey } from './backend.js';

export interface AutoBlsBackend extends BlsBackend {
  readonly name: 'auto';
  /** The backend that answers now: the first one until the upgrade is ready. */
  readonly active: BlsBackendName;
  /** Verifications (verify, aggregate and prepared checks) each backend answered: diagnostics. */
  readonly verified: Readonly<Partial<Record<BlsBackendName, number>>>;
  /**
   * Load the faster backend (once; later calls share the load) and switch to it. Resolves to the
   * backend in use after it: the upgraded one, or the first one if the load failed (never rejects).
   */
  upgrade(): Promise<BlsBackendName>;
}

class AutoPrepared implements PreparedPublicKey {
  readonly backend = 'auto' as const;
  private readonly byBackend = new Map<BlsBackend, PreparedPublicKey>();

  constructor(
    readonly bytes: Uint8Array,
    first: BlsBackend,
    key: PreparedPublicKey,
  ) {
    this.byBackend.set(first, key);
  }

  /** The key as `backend` prepared it (it passed KeyValidate already, so preparing again cannot throw). */
  for(backend: BlsBackend): PreparedPublicKey {
    let key = this.byBackend.get(backend);
    if (!key) {
      key = backend.preparePublicKey(this.bytes);
      this.byBackend.set(backend, key);
    }
    return key;
  }
}

/** An {@link AutoBlsBackend} that answers with `first` until `load` resolved after {@link AutoBlsBackend.upgrade}. */
export function createAutoBackend(first: BlsBackend, load: () => Promise<BlsBackend>): AutoBlsBackend {
  let current = first;
  let upgrading: Promise<BlsBackendName> | undefined;
  const verified: Partial<Record<BlsBackendName, number>> = {};
  const counted = (ok: boolean): boolean => {
    verified[current.name] = (verified[current.name] ?? 0) + 1;
    return ok;
  };

  return Object.freeze({
    name: 'auto' as const,
    get active() {
      return current.name;
    },
    verified,
    upgrade(): Promise<BlsBackendName> {
      upgrading ??= load().then(
        (next) => {
          current = next;
          return next.name;
        },
        () => current.name,
      );
      return upgrading;
    },
    verify: (pk: Uint8Array, message: Uint8Array, sig: Uint8Array) => counted(current.verify(pk, message, sig)),
    fastAggregateVerify: (pks: readonly Uint8Array[], message: Uint8Array, sig: Uint8Array) =>
      counted(current.fastAggregateVerify(pks, message, sig)),
    aggregateVerify: (pks: readonly Uint8Array[], messages: readonly Uint8Array[], sig: Uint8Array) =>
      counted(current.aggregateVerify(pks, messages, sig)),
    aggregateSignatures: (sigs: readonly Uint8Array[]) => current.aggregateSignatures(sigs),
    aggregatePublicKeys: (pks: readonly Uint8Array[]) => current.aggregatePublicKeys(pks),
    sign: (sk: Uint8Array, message: Uint8Array) => current.sign(sk, message),
    secretToPublicKey: (sk: Uint8Array) => current.secretToPublicKey(sk),
    keyValidate: (pk: Uint8Array) => current.keyValidate(pk),
    preparePublicKey(pk: Uint8Array, path?: string): PreparedPublicKey {
      const backend = current;
      return new AutoPrepared(pk.slice(), backend, backend.preparePublicKey(pk, path));
    },
    fastAggregateVerifyPrepared(keys: readonly PreparedPublicKey[], message: Uint8Array, sig: Uint8Array): boolean {
      if (!Array.isArray(keys) || keys.length === 0) return false;
      const backend = current;
      const inner = keys.map((key) => {
        if (!(key instanceof AutoPrepared)) throw foreignPreparedKey('auto', key);
        return key.for(backend);
      });
      return counted(backend.fastAggregateVerifyPrepared(inner, message, sig));
    },
  });
}

/** Start the background upgrade of an `auto` backend; a no-op for any other backend. */
export function upgradeBlsBackend(backend: BlsBackend): Promise<BlsBackendName> {
  const upgrade = (backend as Partial<AutoBlsBackend>).upgrade;
  return typeof upgrade === 'function' ? upgrade.call(backend) : Promise.resolve(backend.name);
}
