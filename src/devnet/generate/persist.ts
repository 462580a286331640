/**
 * A generated devnet on disk, and serving it again.
 *
 * Directory layout (every file is listed in manifest.json with its size and SHA-256, checked when the
 * directory is opened; any difference is a {@link PersistError} naming the file):
 *
 *   manifest.json        format, seed, options, head, queued PoW, file sizes and hashes, generation stats
 *   chain-spec.json      the chain spec (Alys JSON form) a light node loads to follow the devnet
 *   consensus.bin        signed consensus blocks 0..head, msgpack (src/protocol's rmp-serde codec)
 *   consensus-roots.bin  their signing roots (32 bytes each, block order): getblockbyhash without decoding
 *   el-blocks.bin        EL blocks 0..head with receipts and logs (engine/persist.ts records)
 *   el-index.bin         per block hash + state root; the transaction index (sorted by hash)
 *   el-state.bin         the state trie nodes the engine kept (the latest states) and contract code
 *   bitcoin.bin          the Bitcoin regtest chain (exportChain: raw blocks, index, UTXO set)
 *
 * The .bin files other than bitcoin.bin share one framing: magic "ALYSDEV1", u32 version, u32 kind
 * length + kind, u32 record count, (count + 1) u64 offsets, then the records.
 *
 * Serving (`servePersisted`) is frozen: the three servers answer from the files (blocks decode
 * lazily on first use; nothing is re-executed) and the chain does not grow. Writes are refused with
 * a clear error: eth_sendRawTransaction, createauxblock / submitauxblock (-32606 "Chain is syncing",
 * Alys's answer when it has no work), and Esplora's POST /tx.
 */
import { createHash } from 'node:crypto';
import { listenLocal } from '../../platform/nodejs/http.js';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode, encode } from '@msgpack/msgpack';
import { createFederationFromSpec, federationAddress } from '../../protocol/bridge/taproot.js';
import { toHex } from '../../protocol/bytes.js';
import { chainSpecToJson, parseChainSpecJson } from '../../protocol/chainspec.js';
import { decodeAuxPowHeaderJson, encodeAuxPowHeaderJson } from '../../protocol/codec/json.js';
import { decodeSignedBlockMsgpack, encodeSignedBlockMsgpack } from '../../protocol/codec/msgpack.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { AuxPowHeader, ChainSpec, Hex, SignedConsensusBlock } from '../../protocol/types.js';
import { handleEsploraRequest, importChain, type RegtestChain } from '../bitcoin/index.js';
import { NoWorkError } from '../consensus/mining.js';
import { handleConsensusRpc, serveConsensusRpc, type ConsensusRpcChain } from '../consensus/rpc.js';
import type { Devnet } from '../devnet.js';
import { RpcCode } from '../evm/errors.js';
import { serveRpc } from '../evm/http.js';
import { restoreEngine, snapshotEngine } from '../evm/persist.js';
import type { DevnetEngine } from '../evm/index.js';
import type { GenerateStats } from './generate.js';

export const SNAPSHOT_FORMAT = 'alys-light-devnet';
export const SNAPSHOT_VERSION = 1;
const MAGIC = 'ALYSDEV1';
const FILES = [
  'chain-spec.json',
  'consensus.bin',
  'consensus-roots.bin',
  'el-blocks.bin',
  'el-index.bin',
  'el-state.bin',
  'bitcoin.bin',
] as const;
type FileName = (typeof FILES)[number];

/** A persisted devnet is missing, corrupt or of another format. The message names the file. */
export class PersistError extends ProtocolError {
  constructor(file: string, problem: string) {
    super('devnet.persist', `${file}: ${problem}`);
  }
}

export interface Manifest {
  format: typeof SNAPSHOT_FORMAT;
  version: number;
  seed: string;
  chainId: number;
  authorities: number;
  head: { number: number; hash: Hex; elHash: Hex; finalized: number };
  bitcoinHeight: number;
  depositAddress: string;
  users: Hex[];
  queuedPow: unknown;
  options?: Record<string, unknown>;
  stats?: GenerateStats;
  files: Record<FileName, { bytes: number; sha256: string }>;
}

// ---------------------------------------------------------------- record files

/** Frame records (see the module comment). */
export function encodeRecordFile(kind: string, records: readonly Uint8Array[]): Uint8Array {
  const kindBytes = new TextEncoder().encode(kind);
  const head = 8 + 4 + 4 + kindBytes.length + 4 + (records.length + 1) * 8;
  const total = head + records.reduce((a, r) => a + r.length, 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  dv.setUint32(8, SNAPSHOT_VERSION, true);
  dv.setUint32(12, kindBytes.length, true);
  out.set(kindBytes, 16);
  let at = 16 + kindBytes.length;
  dv.setUint32(at, records.length, true);
  at += 4;
  let offset = head;
  for (let i = 0; i <= records.length; i++) {
    dv.setBigUint64(at + i * 8, BigInt(offset), true);
    if (i < records.length) {
      out.set(records[i]!, offset);
      offset += records[i]!.length;
    }
  }
  return out;
}

export interface RecordFile {
  count: number;
  get(i: number): Uint8Array;
}

/** Parse a record file; every offset is checked, so a bad file fails here with a clear error. */
export function openRecordFile(bytes: Uint8Array, kind: string, file: string): RecordFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string): never => {
    throw new PersistError(file, `${what}; the file is corrupt or truncated (generate the devnet again)`);
  };
  if (bytes.length < 20 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    bad(`not a devnet record file (magic ${MAGIC} expected)`);
  if (dv.getUint32(8, true) !== SNAPSHOT_VERSION)
    bad(`format version ${dv.getUint32(8, true)} (this code reads ${SNAPSHOT_VERSION})`);
  const kindLength = dv.getUint32(12, true);
  if (16 + kindLength + 4 > bytes.length) bad('truncated header');
  const got = new TextDecoder().decode(bytes.subarray(16, 16 + kindLength));
  if (got !== kind) bad(`holds "${got}" records, expected "${kind}"`);
  const countAt = 16 + kindLength;
  const count = dv.getUint32(countAt, true);
  const tableAt = countAt + 4;
  const dataAt = tableAt + (count + 1) * 8;
  if (dataAt > bytes.length) bad(`truncated offset table (${count} records)`);
  let prev = dataAt;
  const offsets = new Float64Array(count + 1);
  for (let i = 0; i <= count; i++) {
    const o = Number(dv.getBigUint64(tableAt + i * 8, true));
    if (o < prev || o > bytes.length || (i === 0 && o !== dataAt)) bad(`record ${i} has offset ${o} outside the data`);
    offsets[i] = prev = o;
  }
  if (offsets[count] !== bytes.length) bad(`${bytes.length - offsets[count]!} bytes after the last record`);
  return {
    count,
    get(i) {
      if (!Number.isInteger(i) || i < 0 || i >= count)
        throw new RangeError(`${file}: no record ${i} (${count} records)`);
      return bytes.subarray(offsets[i]!, offsets[i + 1]!);
    },
  };
}

// ---------------------------------------------------------------- writing

export interface PersistOptions {
  options?: Record<string, unknown>;
  stats?: GenerateStats;
  seed?: string;
}

/** Write `devnet` (its whole chain, EL, Bitcoin chain and spec) to `dir`. Returns the manifest. */
export function persistDevnet(devnet: Devnet, dir: string, meta: PersistOptions = {}): Manifest {
  mkdirSync(dir, { recursive: true });
  const { chain, engine } = devnet;
  const files = {} as Manifest['files'];
  const write = (name: FileName, bytes: Uint8Array): void => {
    writeFileSync(join(dir, name), bytes);
    files[name] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  write('chain-spec.json', new TextEncoder().encode(JSON.stringify(chainSpecToJson(devnet.spec), null, 2) + '\n'));
  const blocks: Uint8Array[] = new Array(chain.height + 1);
  const roots = new Uint8Array((chain.height + 1) * 32);
  for (let n = 0; n <= chain.height; n++) {
    const b = chain.at(n)!;
    blocks[n] = encodeSignedBlockMsgpack(b.signed);
    roots.set(Buffer.from(b.hash.slice(2), 'hex'), n * 32);
  }
  write('consensus.bin', encodeRecordFile('consensus-blocks', blocks));
  write('consensus-roots.bin', encodeRecordFile('consensus-roots', [roots]));
  const snap = snapshotEngine(engine);
  if (snap.blocks.length !== chain.height + 1)
    throw new PersistError(
      'el-blocks.bin',
      `the engine has ${snap.blocks.length} blocks, the consensus chain ${chain.height + 1}`,
    );
  write('el-blocks.bin', encodeRecordFile('el-blocks', snap.blocks));
  write('el-index.bin', encodeRecordFile('el-index', [snap.blockIndex, snap.txIndex]));
  write(
    'el-state.bin',
    encodeRecordFile('el-state', [encode({ finalized: snap.finalized }), ...snap.stateNodes.flat()]),
  );
  write('bitcoin.bin', devnet.bitcoin.exportChain());
  const queued = devnet.pow.queuedPow;
  const manifest: Manifest = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    seed: meta.seed ?? '',
    chainId: devnet.spec.chainId,
    authorities: devnet.spec.authorities.length,
    head: {
      number: chain.height,
      hash: chain.head.hash,
      elHash: chain.head.signed.message.executionPayload.blockHash,
      finalized: chain.lastFinalized.number,
    },
    bitcoinHeight: devnet.bitcoin.tipHeight(),
    depositAddress: devnet.depositAddress,
    users: devnet.users.map((u) => u.address),
    queuedPow: queued ? encodeAuxPowHeaderJson(queued) : null,
    ...(meta.options ? { options: meta.options } : {}),
    ...(meta.stats ? { stats: meta.stats } : {}),
    files,
  };
  // written last: a directory without a manifest is an incomplete one
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify(manifest, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n',
  );
  return manifest;
}

// ---------------------------------------------------------------- reading

export interface PersistedDevnet {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly spec: ChainSpec;
  readonly specFile: string;
  /** The consensus chain (what the consensus RPC reads); blocks decode on first use. */
  readonly chain: ConsensusRpcChain & { readonly height: number };
  readonly queuedPow: AuxPowHeader | null;
  readonly engine: DevnetEngine;
  readonly bitcoin: RegtestChain;
  close(): Promise<void>;
}

function readChecked(dir: string, name: FileName, expected: { bytes: number; sha256: string } | undefined): Uint8Array {
  if (!expected) throw new PersistError(join(dir, 'manifest.json'), `does not list ${name}`);
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new PersistError(
      path,
      `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the directory is not a complete persisted devnet`,
    );
  }
  if (bytes.length !== expected.bytes)
    throw new PersistError(
      path,
      `is ${bytes.length} bytes, the manifest says ${expected.bytes}: the file is truncated or was changed`,
    );
  const sum = createHash('sha256').update(bytes).digest('hex');
  if (sum !== expected.sha256)
    throw new PersistError(
      path,
      `SHA-256 ${sum} does not match the manifest (${expected.sha256}): the file is corrupt`,
    );
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  let m: Manifest;
  try {
    statSync(dir);
  } catch {
    throw new PersistError(dir, 'no such directory');
  }
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new PersistError(
      path,
      `missing or not JSON (${(e as Error).message.split('\n')[0]}); persist a devnet with \`npm run devnet -- --generate <blocks> --out ${dir}\``,
    );
  }
  if (m?.format !== SNAPSHOT_FORMAT)
    throw new PersistError(path, `format ${JSON.stringify(m?.format)} is not ${SNAPSHOT_FORMAT}`);
  if (m.version !== SNAPSHOT_VERSION)
    throw new PersistError(path, `version ${m.version} (this code reads ${SNAPSHOT_VERSION})`);
  if (!Number.isSafeInteger(m.head?.number) || m.head.number < 0 || typeof m.files !== 'object' || m.files === null)
    throw new PersistError(path, 'head or files missing');
  return m;
}

/** Open a persisted devnet: checks every file against the manifest, decodes nothing else eagerly. */
export async function openPersisted(dirIn: string): Promise<PersistedDevnet> {
  const dir = resolve(dirIn);
  const manifest = readManifest(dir);
  const file = (name: FileName) => readChecked(dir, name, manifest.files[name]);
  const specFile = join(dir, 'chain-spec.json');
  let spec: ChainSpec;
  try {
    spec = parseChainSpecJson(new TextDecoder().decode(file('chain-spec.json')));
  } catch (e) {
    if (e instanceof PersistError) throw e;
    throw new PersistError(specFile, `is not a valid chain spec: ${(e as Error).message}`);
  }
  const count = manifest.head.number + 1;

  // consensus chain: roots index + lazily decoded blocks
  const blocks = openRecordFile(file('consensus.bin'), 'consensus-blocks', join(dir, 'consensus.bin'));
  const rootsFile = openRecordFile(file('consensus-roots.bin'), 'consensus-roots', join(dir, 'consensus-roots.bin'));
  const roots = rootsFile.count === 1 ? rootsFile.get(0) : new Uint8Array(0);
  if (blocks.count !== count || roots.length !== count * 32)
    throw new PersistError(
      join(dir, 'consensus.bin'),
      `holds ${blocks.count} blocks and ${roots.length / 32} roots, the manifest's head is block ${manifest.head.number}`,
    );
  const heightOf = new Map<string, number>();
  for (let n = 0; n < count; n++) heightOf.set(toHex(roots.subarray(n * 32, n * 32 + 32)), n);
  if (toHex(roots.subarray((count - 1) * 32)) !== manifest.head.hash)
    throw new PersistError(
      join(dir, 'consensus-roots.bin'),
      `the last root is not the manifest's head ${manifest.head.hash}`,
    );
  const cache = new Map<number, { signed: SignedConsensusBlock }>();
  const at = (n: number): { signed: SignedConsensusBlock } | undefined => {
    if (!Number.isSafeInteger(n) || n < 0 || n >= count) return undefined;
    let b = cache.get(n);
    if (b) return b;
    try {
      b = { signed: decodeSignedBlockMsgpack(blocks.get(n)) };
    } catch (e) {
      throw new PersistError(
        join(dir, 'consensus.bin'),
        `block ${n} does not decode (${(e as Error).message.split('\n')[0]}): the file is corrupt`,
      );
    }
    if (b.signed.message.executionPayload.blockNumber !== BigInt(n))
      throw new PersistError(
        join(dir, 'consensus.bin'),
        `record ${n} holds block ${b.signed.message.executionPayload.blockNumber}`,
      );
    cache.set(n, b);
    if (cache.size > 512) cache.delete(cache.keys().next().value!);
    return b;
  };
  const chain: PersistedDevnet['chain'] = {
    height: count - 1,
    get head() {
      return at(count - 1)!;
    },
    at,
    get: (hash) => {
      const n = heightOf.get(String(hash).toLowerCase());
      return n === undefined ? undefined : at(n);
    },
  };

  // execution layer
  const elBlocks = openRecordFile(file('el-blocks.bin'), 'el-blocks', join(dir, 'el-blocks.bin'));
  const elIndex = openRecordFile(file('el-index.bin'), 'el-index', join(dir, 'el-index.bin'));
  const elState = openRecordFile(file('el-state.bin'), 'el-state', join(dir, 'el-state.bin'));
  if (elBlocks.count !== count || elIndex.count !== 2 || elState.count < 1 || elState.count % 2 !== 1)
    throw new PersistError(
      join(dir, 'el-blocks.bin'),
      `the EL files hold ${elBlocks.count} blocks (${count} expected) and malformed indexes`,
    );
  const stateMeta = decode(elState.get(0)) as { finalized?: unknown };
  const finalized = typeof stateMeta?.finalized === 'string' ? (stateMeta.finalized as Hex) : null;
  const stateNodes = (function* () {
    for (let i = 1; i < elState.count; i += 2) yield [elState.get(i), elState.get(i + 1)] as [Uint8Array, Uint8Array];
  })();
  let engine: DevnetEngine;
  try {
    engine = await restoreEngine(
      {
        count,
        block: (n) => elBlocks.get(n),
        blockIndex: elIndex.get(0),
        txIndex: elIndex.get(1),
        stateNodes,
        finalized,
      },
      { chainId: BigInt(spec.chainId) },
    );
  } catch (e) {
    throw new PersistError(join(dir, 'el-*.bin'), (e as Error).message);
  }
  if (engine.headHash() !== manifest.head.elHash)
    throw new PersistError(
      join(dir, 'el-index.bin'),
      `the EL head ${engine.headHash()} is not the manifest's ${manifest.head.elHash}`,
    );

  let bitcoin: RegtestChain;
  try {
    bitcoin = importChain(file('bitcoin.bin'));
  } catch (e) {
    throw new PersistError(join(dir, 'bitcoin.bin'), (e as Error).message);
  }
  let queuedPow: AuxPowHeader | null = null;
  try {
    queuedPow =
      manifest.queuedPow === null || manifest.queuedPow === undefined
        ? null
        : decodeAuxPowHeaderJson(manifest.queuedPow);
  } catch (e) {
    throw new PersistError(join(dir, 'manifest.json'), `queuedPow: ${(e as Error).message}`);
  }
  return {
    dir,
    manifest,
    spec,
    specFile,
    chain,
    queuedPow,
    engine,
    bitcoin,
    close: async () => {
      await engine.close();
      await bitcoin.close();
    },
  };
}

// ---------------------------------------------------------------- serving

export interface ServeOptions {
  /** Ports on 127.0.0.1 (0 = any free port). Defaults: 3000, 8545, 3002. */
  consensusPort?: number;
  evmPort?: number;
  esploraPort?: number;
}

export interface ServedDevnet {
  readonly persisted: PersistedDevnet;
  readonly urls: { consensus: string; evm: string; esplora: string };
  /** ms from the call to the three servers listening */
  readonly startupMs: number;
  close(): Promise<void>;
}

const FROZEN = 'this devnet is a frozen snapshot served from disk; it does not accept new transactions or work';

/** The EVM JSON-RPC of a frozen devnet: everything the engine answers, except eth_sendRawTransaction. */
export function frozenEvmHandler(engine: DevnetEngine): (request: unknown) => Promise<unknown> {
  const refuse = (r: unknown): unknown => {
    const o = r as { id?: unknown };
    return {
      jsonrpc: '2.0',
      id: typeof o?.id === 'string' || typeof o?.id === 'number' ? o.id : null,
      error: { code: RpcCode.server, message: FROZEN },
    };
  };
  const isSend = (r: unknown): boolean =>
    typeof r === 'object' && r !== null && (r as { method?: unknown }).method === 'eth_sendRawTransaction';
  return async (request) => {
    if (Array.isArray(request) && request.some(isSend)) {
      const out: unknown[] = [];
      for (const r of request) {
        if (isSend(r)) {
          if ((r as object) && 'id' in (r as object)) out.push(refuse(r));
        } else {
          const res = await engine.handleRpc(r);
          if (res !== undefined) out.push(res);
        }
      }
      return out.length === 0 ? undefined : out;
    }
    if (isSend(request)) return 'id' in (request as object) ? refuse(request) : undefined;
    return engine.handleRpc(request);
  };
}

/** Open `dir` and serve it: consensus RPC, EVM RPC and Esplora on 127.0.0.1. Frozen (see the module comment). */
export async function servePersisted(dir: string, opts: ServeOptions = {}): Promise<ServedDevnet> {
  const t0 = performance.now();
  const persisted = await openPersisted(dir);
  const federation = createFederationFromSpec(persisted.spec);
  const pow = {
    get queuedPow() {
      return persisted.queuedPow;
    },
    createAuxBlock(): never {
      throw new NoWorkError(FROZEN);
    },
    submitAuxBlock(): never {
      throw new ProtocolError('devnet.frozen', FROZEN);
    },
  };
  const deps = { chain: persisted.chain, pow, federation, bitcoinNetwork: 'regtest' as const };
  const closers: Array<() => Promise<void>> = [persisted.close];
  try {
    const consensus = await serveConsensusRpc(opts.consensusPort ?? 3000, (method, body) =>
      handleConsensusRpc(deps, method, body),
    );
    closers.unshift(consensus.close);
    const evm = await serveRpc(frozenEvmHandler(persisted.engine), opts.evmPort ?? 8545);
    closers.unshift(evm.close);
    const esplora = await serveFrozenEsplora(persisted.bitcoin, opts.esploraPort ?? 3002);
    closers.unshift(esplora.close);
    if (federationAddress(federation, 'regtest') !== persisted.manifest.depositAddress)
      throw new PersistError(
        persisted.specFile,
        'the federation of the chain spec does not have the manifest deposit address',
      );
    return {
      persisted,
      urls: { consensus: consensus.url, evm: evm.url, esplora: esplora.url },
      startupMs: performance.now() - t0,
      close: async () => {
        for (const c of closers) await c();
      },
    };
  } catch (e) {
    for (const c of closers) await c().catch(() => {});
    throw e;
  }
}

/** Esplora over the imported chain; POST /tx is refused (nothing would ever mine it). */
async function serveFrozenEsplora(chain: RegtestChain, port: number): Promise<{ url: string; close(): Promise<void> }> {
  return listenLocal((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1 << 20) chunks.push(c);
    });
    req.on('end', () => {
      let status: number;
      let body: string | Uint8Array;
      let type = 'text/plain';
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': 'GET',
          'Access-Control-Allow-Headers': 'Content-Type',
        });
        return void res.end();
      }
      if (req.method === 'POST') {
        status = 400;
        body = `sendrawtransaction RPC error: ${FROZEN}`;
      } else {
        try {
          const r = handleEsploraRequest(
            chain,
            req.method ?? 'GET',
            req.url ?? '/',
            new Uint8Array(Buffer.concat(chunks)),
          );
          status = r.status;
          body = r.body;
          type = r.contentType;
        } catch (e) {
          status = 500;
          body = (e as Error).message;
        }
      }
      res.writeHead(status, { 'content-type': type, 'Access-Control-Allow-Origin': '*' });
      res.end(body);
    });
  }, port);
}
