/** Assertions shared by the test suites. */
import { expect } from 'vitest';
import { VerificationError } from '../../src/protocol/errors.js';

/**
 * Run `fn` and assert it throws a VerificationError whose `check` is `check` (and, if given, whose
 * message matches `message`); fails if `fn` returns.
 */
export function expectCheck(fn: () => unknown, check: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VerificationError);
    expect((e as VerificationError).check).toBe(check);
    if (message) expect((e as Error).message).toMatch(message);
    return;
  }
  expect.unreachable(`expected VerificationError ${check}`);
}
