/**
 * The devnet's default chain-spec location (issue 13 item 10): a directory private to this user,
 * which the devnet creates (0700) and the node checks before trusting the spec in it. A directory
 * another user created first, a shared one, or a symlink is refused on both sides.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigNetworkError } from '../../src/config/index.js';
import {
  ConfigUnsafeDirectoryError,
  defaultDevnetSpecFile,
  ensurePrivateDir,
  loadChainSpec,
  privateDirProblem,
  privateRuntimeDir,
} from '../../src/config/nodejs/index.js';
import { createDevnet } from '../../src/devnet/devnet.js';
import { chainSpecToJson, getChainSpec } from '../../src/protocol/chainspec.js';

const root = mkdtempSync(join(tmpdir(), 'alys-private-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  vi.unstubAllEnvs();
});
let n = 0;
/** A fresh XDG_RUNTIME_DIR under the test's temp root. */
const runtime = () => join(root, `run-${n++}`);
const isRoot = process.getuid?.() === 0;

describe('ensurePrivateDir / privateDirProblem', () => {
  it('creates the base and the subdirectory with mode 0700', () => {
    const base = join(runtime(), 'alys-light');
    const dir = ensurePrivateDir(base, 'devnet-x');
    expect(dir).toBe(join(base, 'devnet-x'));
    expect(statSync(base).mode & 0o777).toBe(0o700);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(privateDirProblem(base)).toBeNull();
    expect(privateDirProblem(join(base, 'missing'))).toBeNull(); // nothing there to trust
  });

  it('refuses a directory others can write, and a symlink', () => {
    const shared = join(runtime(), 'alys-light');
    mkdirSync(shared, { recursive: true });
    chmodSync(shared, 0o777);
    expect(() => ensurePrivateDir(shared, 'devnet-x')).toThrow(ConfigUnsafeDirectoryError);
    expect(privateDirProblem(shared)).toMatch(/other users have access \(mode 0777\)/);

    const target = join(runtime(), 'elsewhere');
    mkdirSync(target, { recursive: true, mode: 0o700 });
    const link = join(root, `link-${n++}`);
    symlinkSync(target, link);
    expect(() => ensurePrivateDir(link)).toThrow(/symbolic link/);
  });

  it.skipIf(!isRoot)('refuses a directory another user created first', () => {
    const planted = join(runtime(), 'alys-light');
    mkdirSync(planted, { recursive: true, mode: 0o700 });
    chownSync(planted, 65534, 65534);
    expect(() => ensurePrivateDir(planted)).toThrow(/owned by uid 65534, not by you/);
  });
});

describe('devnet and node meet in the private runtime dir', () => {
  it('createDevnet writes the spec where `--network devnet` reads it, mode 0700/0600', async () => {
    vi.stubEnv('XDG_RUNTIME_DIR', runtime());
    const devnet = await createDevnet({ seed: 'alys-devnet', noServers: true, log: () => {} });
    try {
      expect(devnet.specFile).toBe(defaultDevnetSpecFile());
      expect(dirname(dirname(devnet.specFile))).toBe(privateRuntimeDir());
      expect(statSync(dirname(devnet.specFile)).mode & 0o777).toBe(0o700);
      expect(statSync(devnet.specFile).mode & 0o077).toBe(0);
      const spec = await loadChainSpec({ network: 'devnet', chainSpecFile: null });
      expect(spec.authorities).toEqual(devnet.spec.authorities);
    } finally {
      await devnet.stop();
    }
  });

  it('a spec planted in a shared default directory is refused by the node and the devnet', async () => {
    const run = runtime();
    vi.stubEnv('XDG_RUNTIME_DIR', run);
    const file = defaultDevnetSpecFile();
    mkdirSync(dirname(file), { recursive: true });
    chmodSync(join(run, 'alys-light'), 0o777);
    writeFileSync(file, JSON.stringify(chainSpecToJson(getChainSpec('dev'))));
    const err = await loadChainSpec({ network: 'devnet', chainSpecFile: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigNetworkError);
    expect((err as Error).message).toMatch(/is not private to you: other users have access/);
    await expect(createDevnet({ seed: 'alys-devnet', noServers: true, log: () => {} })).rejects.toThrow(
      ConfigUnsafeDirectoryError,
    );
    // the planted file was not overwritten either
    expect(JSON.parse(readFileSync(file, 'utf8')).chainId).toBe(getChainSpec('dev').chainId);
  });
});
