/**
 * "Did you mean" for unknown keys and values. Candidates are compared on a folded form (lower case,
 * no `-`, `_` or `.`), so `batch_size`, `batchsize` and `BatchSize` all find `batch-size`.
 */

/** Lower case without separators: `Sync.Batch_Size` -> `syncbatchsize`. */
export function foldName(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}

/** Optimal-string-alignment distance (Levenshtein plus adjacent swaps), small strings only. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[rows * cols - 1]!;
}

/**
 * The closest candidate to `input`, or undefined when none is close: an edit distance of at most a
 * third of the input's length (at least 1, at most 3), or else one folded name extending the other
 * (`warning` -> `warn`, at least 3 characters shared).
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  const folded = foldName(input);
  const limit = Math.min(3, Math.max(1, Math.floor(folded.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(folded, foldName(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= limit) return best;
  for (const candidate of candidates) {
    const c = foldName(candidate);
    const [short, long] = c.length <= folded.length ? [c, folded] : [folded, c];
    if (short.length >= 3 && long.startsWith(short)) return candidate;
  }
  return undefined;
}
