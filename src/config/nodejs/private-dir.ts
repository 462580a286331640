/**
 * Per-user private directories for files one local process hands to another, such as the devnet's
 * chain spec, which `npm run devnet` writes and `alys-light run --network devnet` trusts. A fixed
 * path in a shared /tmp would let another local user plant a spec with their own authorities.
 *
 * The base is `$XDG_RUNTIME_DIR/alys-light` when XDG_RUNTIME_DIR is an absolute path (per-user by
 * design), else `<os.tmpdir()>/alys-light-<uid>`. The name is predictable (both sides must find it),
 * so it is checked before every use: a real directory (not a symlink), owned by this user, with no
 * group or other permissions. Someone else may create it first, but then it is refused, never used.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConfigBaseError } from '../errors.js';

/** A directory that should be private to this user is not (someone else's, shared, or a symlink). */
export class ConfigUnsafeDirectoryError extends ConfigBaseError {
  override name = 'ConfigUnsafeDirectoryError';
  constructor(
    readonly dir: string,
    readonly problem: string,
  ) {
    super('config.unsafe-directory', `Refusing to use ${dir}: ${problem}`, {
      hint: `Remove it if it is not yours (or set XDG_RUNTIME_DIR to a private directory); it must be a directory owned by you with mode 0700.`,
    });
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const safeName = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '_');

/** This user's id for a directory name: the uid on POSIX, else the user name. */
function userTag(): string {
  return typeof process.getuid === 'function' ? String(process.getuid()) : safeName(userInfo().username);
}

/** `<os.tmpdir()>/alys-light-<uid>`: private, on the disk-backed temp dir (for large files). */
export function privateTmpDir(): string {
  return join(tmpdir(), `alys-light-${userTag()}`);
}

/** `$XDG_RUNTIME_DIR/alys-light` when that variable is an absolute path, else {@link privateTmpDir}. */
export function privateRuntimeDir(env: Env = process.env): string {
  const xdg = env['XDG_RUNTIME_DIR'];
  return xdg !== undefined && isAbsolute(xdg) ? join(xdg, 'alys-light') : privateTmpDir();
}

/** The devnet's directory name under the runtime dir: `devnet-<seed>`. */
export function devnetDirName(seed = 'alys-devnet'): string {
  return `devnet-${safeName(seed)}`;
}

/** Where the devnet of `seed` keeps its chain spec unless given a data dir: `<runtime dir>/devnet-<seed>`. */
export function defaultDevnetDir(seed = 'alys-devnet', env: Env = process.env): string {
  return join(privateRuntimeDir(env), devnetDirName(seed));
}

/** Why `dir` is not private to this user, or null when it is (or does not exist: nothing to trust in it). */
export function privateDirProblem(dir: string): string | null {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return `cannot inspect it (${(e as Error).message})`;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isDirectory()) return 'it is not a directory';
  if (typeof process.getuid !== 'function') return null; // Windows: no POSIX owner and mode to check
  const uid = process.getuid();
  if (st.uid !== uid) return `it is owned by uid ${st.uid}, not by you (uid ${uid})`;
  if ((st.mode & 0o077) !== 0) return `other users have access (mode 0${(st.mode & 0o777).toString(8)})`;
  return null;
}

/** Throw {@link ConfigUnsafeDirectoryError} when `dir` exists and is not private to this user. */
export function checkPrivateDir(dir: string): void {
  const problem = privateDirProblem(dir);
  if (problem !== null) throw new ConfigUnsafeDirectoryError(dir, problem);
}

/** Create `base` (mode 0700) when missing and check it is private; then create `sub` inside it (0700). Returns `base/sub`. */
export function ensurePrivateDir(base: string, sub?: string): string {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  checkPrivateDir(base);
  if (sub === undefined) return base;
  const dir = join(base, sub);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivateDir(dir);
  return dir;
}
