/** The stored chain's typed error, in a module of its own (the page's side of the node worker rebuilds it). */
import { AlysLightError } from '../../errors.js';

/** The stored chain fails a check (code `storage.corrupt`); the node clears it (or the damaged part) and syncs again. */
export class CorruptStoreError extends AlysLightError {
  override name = 'CorruptStoreError';
  declare readonly code: 'storage.corrupt';
  constructor(readonly reason: string) {
    super(
      'storage.corrupt',
      `the stored chain is damaged (${reason}); the damaged part is not trusted and is synced again`,
    );
  }
}
