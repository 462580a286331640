/**
 * The authority set in force at any block height: the chain spec's set from height 0, then changes
 * (signed governance updates, verified elsewhere and handed over as plain data) with strictly
 * increasing effective heights. A change effective at H applies to blocks numbered H and above.
 *
 * [R] Alys itself never changes its set: the running chain keeps the spec's `authorities`,
 * `federation` and `federationBitcoinPubkeys` (spec 10.1; past changes were new spec files). The
 * schedule is this light client's extension for `FederationUpdate`s, and the meaning of
 * `effective_height` (the first block number approved by the new set) is ours [U]. With no change,
 * every height answers the spec's set, so verification is exactly Alys's.
 *
 * Each set is prepared (keys decoded and subgroup-checked) once per backend, on first use, and
 * cached. Views made with {@link AuthoritySchedule.withBackend} share one change list: a change
 * added through any of them is seen by all. Pure: the change list is plain data (it crosses worker
 * boundaries and goes to storage as is).
 */
import {
  MAX_AUTHORITIES,
  prepareAuthorities,
  type AuthoritiesByHeight,
  type PreparedAuthorities,
} from './approvals.js';
import type { BlsBackend } from './bls/backend.js';
import { parseHex, type Hex } from './bytes.js';
import { AuthorityScheduleError } from './errors.js';

export { AuthorityScheduleError };
import { describeJson } from './json-fields.js';
import type { ChainSpec } from './types.js';

/** Where a set comes from: the chain spec, or a governance update (its digest, the signed message's hash). */
export type AuthoritySetSource = { kind: 'spec' } | { kind: 'governance'; digest: Hex };

/** A change of the authority set (and optionally of the federation's EVM and Bitcoin keys) from a height on. */
export interface AuthoritySetChange {
  /** The first block number the new set approves (>= 1; the spec's set is in force below the first change). */
  effectiveHeight: number;
  /** 48-byte BLS G1 public keys, 0x hex, index = authority index (1..15 of them). */
  authorities: Hex[];
  /** The federation's EVM addresses (fee recipients); absent: unchanged. */
  federation?: Hex[];
  /** The federation's 33-byte compressed secp256k1 keys, hex without 0x; absent: unchanged. */
  federationBitcoinPubkeys?: string[];
  source: AuthoritySetSource;
}

/** Everything in force at one height, with where each part comes from. */
export interface AuthoritySetInForce {
  /** The first height of the authority set in force (0: the spec's). */
  from: number;
  /** The first height of the next change, or null when none is scheduled. */
  until: number | null;
  authorities: Hex[];
  federation: Hex[];
  federationBitcoinPubkeys: string[];
  /** The source of the authority set. */
  source: AuthoritySetSource;
  /** The source of `federation` (the last change that set it, or the spec). */
  federationSource: AuthoritySetSource;
  /** The source of `federationBitcoinPubkeys`. */
  bitcoinSource: AuthoritySetSource;
}

/** The most changes a schedule holds (bounds memory and the stored record). */
export const MAX_AUTHORITY_CHANGES = 1024;

/** The spec's part of a schedule. */
export type ScheduleSpec = Pick<ChainSpec, 'authorities' | 'federation' | 'federationBitcoinPubkeys'>;

interface SharedChanges {
  readonly spec: ScheduleSpec;
  readonly changes: AuthoritySetChange[];
}

const SPEC_SOURCE: AuthoritySetSource = Object.freeze({ kind: 'spec' });
const BTC_KEY = /^0[23][0-9a-f]{64}$/;

function malformed(path: string, problem: string, cause?: unknown): AuthorityScheduleError {
  return new AuthorityScheduleError('authority-schedule.change', `${path}: ${problem}`, cause ? { cause } : {});
}

function hexList(value: unknown, path: string, bytes: number, max: number): Hex[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > max)
    throw malformed(path, `expected 1..${max} hex strings, got ${describeJson(value)}`);
  return value.map((v, i) => {
    try {
      parseHex(v, `${path}[${i}]`, { prefix: 'required', length: bytes });
    } catch (e) {
      throw malformed(`${path}[${i}]`, `not a ${bytes}-byte 0x hex string`, e);
    }
    return (v as string).toLowerCase() as Hex;
  });
}

function bitcoinKeys(value: unknown, path: string): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 64)
    throw malformed(path, `expected 1..64 compressed keys, got ${describeJson(value)}`);
  return value.map((v, i) => {
    const key = typeof v === 'string' ? v.toLowerCase() : '';
    if (!BTC_KEY.test(key)) throw malformed(`${path}[${i}]`, 'not a 33-byte compressed key (66 hex digits, no 0x)');
    return key;
  });
}

function checkSource(value: unknown, path: string): AuthoritySetSource {
  const s = value as { kind?: unknown; digest?: unknown } | null;
  if (s?.kind === 'spec') return { kind: 'spec' };
  if (s?.kind !== 'governance')
    throw malformed(path, `expected { kind: 'spec' | 'governance' }, got ${describeJson(value)}`);
  return { kind: 'governance', digest: hexList([s.digest], `${path}.digest`, 32, 1)[0]! };
}

/**
 * Check the form of a change (no curve arithmetic: {@link AuthoritySchedule.add} prepares the keys)
 * and that its height is above `after`; returns a normalised copy (lowercase hex, no extra fields).
 */
export function checkAuthoritySetChange(value: unknown, after: number, path = '$'): AuthoritySetChange {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw malformed(path, `expected a change object, got ${describeJson(value)}`);
  const c = value as Record<string, unknown>;
  const height = c.effectiveHeight;
  if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 1)
    throw malformed(`${path}.effectiveHeight`, `expected a block number >= 1, got ${describeJson(height)}`);
  if (height <= after)
    throw new AuthorityScheduleError(
      'authority-schedule.height',
      `${path}.effectiveHeight: a change at height ${height} is not above the last change (height ${after}); changes must have strictly increasing heights`,
    );
  const out: AuthoritySetChange = {
    effectiveHeight: height,
    authorities: hexList(c.authorities, `${path}.authorities`, 48, MAX_AUTHORITIES),
    source: checkSource(c.source, `${path}.source`),
  };
  if (c.federation !== undefined) out.federation = hexList(c.federation, `${path}.federation`, 20, 64);
  if (c.federationBitcoinPubkeys !== undefined)
    out.federationBitcoinPubkeys = bitcoinKeys(c.federationBitcoinPubkeys, `${path}.federationBitcoinPubkeys`);
  return out;
}

/** Index of the set in force at `height` in [spec, ...changes]: 0 for the spec's, i + 1 for changes[i]. */
function setIndexAt(changes: readonly AuthoritySetChange[], height: number): number {
  if (typeof height !== 'number' || Number.isNaN(height) || height < 0)
    throw new AuthorityScheduleError('authority-schedule.height', `no authority set at height ${describeJson(height)}`);
  let lo = 0;
  let hi = changes.length;
  // the number of changes with effectiveHeight <= height
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (changes[mid]!.effectiveHeight <= height) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class AuthoritySchedule implements AuthoritiesByHeight {
  /** Prepared sets by set index (0: the spec's), for this view's backend. */
  private readonly prepared = new Map<number, PreparedAuthorities>();

  private constructor(
    private readonly shared: SharedChanges,
    readonly backend: BlsBackend,
  ) {}

  /**
   * The spec's set, then `changes` (each checked as {@link add} does). Throws
   * AuthorityScheduleError for a bad change, DecodeError for a bad spec key.
   */
  static create(spec: ScheduleSpec, backend: BlsBackend, changes: readonly unknown[] = []): AuthoritySchedule {
    const schedule = new AuthoritySchedule(
      {
        spec: {
          authorities: [...spec.authorities],
          federation: [...spec.federation],
          federationBitcoinPubkeys: [...spec.federationBitcoinPubkeys],
        },
        changes: [],
      },
      backend,
    );
    schedule.prepare(0);
    changes.forEach((c, i) => {
      schedule.add(c, `$.changes[${i}]`);
    });
    return schedule;
  }

  /** A view for another backend over the same change list. */
  withBackend(backend: BlsBackend): AuthoritySchedule {
    return backend === this.backend ? this : new AuthoritySchedule(this.shared, backend);
  }

  at(height: number): PreparedAuthorities {
    return this.prepare(setIndexAt(this.shared.changes, height));
  }

  from(height: number): readonly PreparedAuthorities[] {
    const out: PreparedAuthorities[] = [];
    for (let i = setIndexAt(this.shared.changes, height); i <= this.shared.changes.length; i++)
      out.push(this.prepare(i));
    return out;
  }

  /** The changes, oldest first (copies: plain data). */
  changes(): AuthoritySetChange[] {
    return structuredClone(this.shared.changes);
  }

  /** The height of the last change (0 when there is none). */
  get lastHeight(): number {
    return this.shared.changes.at(-1)?.effectiveHeight ?? 0;
  }

  /**
   * Add a change above the last one. Throws AuthorityScheduleError (`authority-schedule.height`,
   * `.change` for a malformed change or a key that is not a valid G1 point, `.full`); the schedule
   * is unchanged then.
   */
  add(change: unknown, path = '$'): AuthoritySetChange {
    const { changes } = this.shared;
    if (changes.length >= MAX_AUTHORITY_CHANGES)
      throw new AuthorityScheduleError(
        'authority-schedule.full',
        `the schedule holds ${MAX_AUTHORITY_CHANGES} changes`,
      );
    const checked = checkAuthoritySetChange(change, this.lastHeight, path);
    let prepared: PreparedAuthorities;
    try {
      prepared = prepareAuthorities(checked.authorities, this.backend, `${path}.authorities`);
    } catch (e) {
      throw malformed(`${path}.authorities`, `a key is not a valid BLS public key: ${(e as Error).message}`, e);
    }
    changes.push(checked);
    this.prepared.set(changes.length, prepared);
    return structuredClone(checked);
  }

  /** The set, federation addresses and Bitcoin keys in force at `height`, with their sources. */
  setAt(height: number): AuthoritySetInForce {
    const { spec, changes } = this.shared;
    const index = setIndexAt(changes, height);
    const change = index === 0 ? undefined : changes[index - 1]!;
    let federation = { value: spec.federation, source: SPEC_SOURCE };
    let bitcoin = { value: spec.federationBitcoinPubkeys, source: SPEC_SOURCE };
    for (const c of changes.slice(0, index)) {
      if (c.federation) federation = { value: c.federation, source: c.source };
      if (c.federationBitcoinPubkeys) bitcoin = { value: c.federationBitcoinPubkeys, source: c.source };
    }
    return structuredClone({
      from: change?.effectiveHeight ?? 0,
      until: changes[index]?.effectiveHeight ?? null,
      authorities: change?.authorities ?? spec.authorities,
      federation: federation.value,
      federationBitcoinPubkeys: bitcoin.value,
      source: change?.source ?? SPEC_SOURCE,
      federationSource: federation.source,
      bitcoinSource: bitcoin.source,
    });
  }

  private prepare(index: number): PreparedAuthorities {
    let set = this.prepared.get(index);
    if (!set) {
      const keys = index === 0 ? this.shared.spec.authorities : this.shared.changes[index - 1]!.authorities;
      set = prepareAuthorities(
        keys,
        this.backend,
        index === 0 ? '$.authorities' : `$.changes[${index - 1}].authorities`,
      );
      this.prepared.set(index, set);
    }
    return set;
  }
}
