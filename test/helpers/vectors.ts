/**
 * Access to the shared known-answer vectors. They are read from $ALYS_VECTORS (default
 * ../shared/vectors relative to the repository) and never copied into the repository.
 * Suites that need them call `loadVectors(name)` inside `describeVectors`, which skips the
 * suite with a clear reason when the directory is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'vitest';

export const vectorsDir = resolve(process.env.ALYS_VECTORS ?? resolve(import.meta.dirname, '../../../shared/vectors'));
export const vectorsAvailable = existsSync(resolve(vectorsDir, 'README.md'));

if (!vectorsAvailable) {
  console.warn(
    `[vectors] ${vectorsDir} not found: known-answer suites are SKIPPED. Set ALYS_VECTORS to the vectors directory.`,
  );
}

export function loadVectors<T = any>(file: string): T {
  return JSON.parse(readFileSync(resolve(vectorsDir, file), 'utf8')) as T;
}

/**
 * `describe` that runs only when the vectors directory exists. Otherwise the suite body is not
 * even evaluated (it would read the missing files); one skipped test carries the reason.
 */
export function describeVectors(name: string, fn: () => void): void {
  if (vectorsAvailable) describe(name, fn);
  else describe(name, () => it.skip(`skipped: no vectors at ${vectorsDir}; set ALYS_VECTORS`, () => {}));
}
