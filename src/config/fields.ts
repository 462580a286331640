/**
 * A small declarative schema kit for config values (no dependency): each spec knows the form it
 * expects (used verbatim in error messages), checks a value from a typed source (TOML, an options
 * object) and turns text from an untyped source (environment, command line, URL query) into a value
 * to check. Text is converted leniently (numbers, comma lists, `off`) and then checked strictly, so a
 * value is judged by the same rule whatever its source.
 */
import { suggest } from './suggest.js';

export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      /** A narrower location inside the value, e.g. `[1]` for a list item. */
      readonly at?: string;
      /** Overrides the spec's `expected` (a list item reports the item's form). */
      readonly expected?: string;
      readonly got?: unknown;
      readonly problem?: string;
      readonly suggestion?: string;
    };

export interface ValueSpec<T> {
  /** The accepted form in words: `an integer from 1 to 1024`, `'full' | 'pow-checkpoint'`. */
  readonly expected: string;
  /** Checks a typed value; on success returns it (lists copied). */
  check(value: unknown): Checked<T>;
  /** Converts text from env/CLI/URL into a value for `check` (which then decides). */
  fromText(text: string): unknown;
  /** Takes several values (repeatable flag, repeated URL parameter, comma list). */
  readonly isList?: true;
}

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const fail = (extra: Omit<Extract<Checked<never>, { ok: false }>, 'ok'> = {}): Checked<never> => ({
  ok: false,
  ...extra,
});

/** One of the listed strings; a near miss gets a suggestion. */
export function oneOf<const V extends string>(values: readonly V[]): ValueSpec<V> {
  const expected = values.map((v) => `'${v}'`).join(' | ');
  return {
    expected,
    check(value) {
      if (typeof value === 'string' && (values as readonly string[]).includes(value)) return ok(value as V);
      const near = typeof value === 'string' ? suggest(value, values) : undefined;
      return fail(near !== undefined ? { suggestion: `'${near}'` } : {});
    },
    fromText: (text) => text.trim(),
  };
}

/** A safe integer in [min, max]. Text must be plain decimal digits. */
export function integer(opts: { min: number; max: number; unit?: string }): ValueSpec<number> {
  const unit = opts.unit ? ` (${opts.unit})` : '';
  const expected = `an integer from ${opts.min} to ${opts.max}${unit}`;
  return {
    expected,
    check(value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return fail();
      if (value < opts.min || value > opts.max) return fail({ problem: 'out of range' });
      return ok(value);
    },
    fromText(text) {
      const t = text.trim();
      return /^[+-]?\d+$/.test(t) ? Number(t) : text;
    },
  };
}

/** A URL (parsed by the platform's `URL`) whose scheme is one of `protocols` (without the colon). */
export function url(protocols: readonly string[], what = 'URL'): ValueSpec<string> {
  const schemes =
    protocols.length === 2 && protocols[1] === `${protocols[0]}s` ? `${protocols[0]}(s)` : protocols.join('/');
  const expected = `an ${schemes} ${what}`;
  return {
    expected,
    check(value) {
      if (typeof value !== 'string' || value.trim() !== value || value === '') return fail();
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        return fail({ problem: 'not a URL' });
      }
      const scheme = parsed.protocol.slice(0, -1);
      if (!protocols.includes(scheme)) return fail({ problem: `scheme ${scheme} is not allowed` });
      if (parsed.hostname === '') return fail({ problem: 'no host' });
      return ok(value);
    },
    fromText: (text) => text.trim(),
  };
}

/** A non-empty file system path (not checked for existence: that is the loader's business). */
export function path(opts: { suffix?: string; what?: string } = {}): ValueSpec<string> {
  const expected = opts.suffix
    ? `a path to a ${opts.what ? `${opts.what} ` : ''}${opts.suffix} file`
    : `a non-empty ${opts.what ?? 'path'}`;
  return {
    expected,
    check(value) {
      if (typeof value !== 'string' || value.trim() === '' || value.includes('\0')) return fail();
      if (opts.suffix !== undefined && !value.toLowerCase().endsWith(opts.suffix))
        return fail({ problem: `does not end in ${opts.suffix}` });
      return ok(value);
    },
    fromText: (text) => text,
  };
}

/** true or false. Text: true/false, yes/no, on/off, 1/0 (any case). */
export function flag(): ValueSpec<boolean> {
  return {
    expected: 'true or false',
    check: (value) => (typeof value === 'boolean' ? ok(value) : fail()),
    fromText(text) {
      const t = text.trim().toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(t)) return true;
      if (['false', 'no', 'off', '0'].includes(t)) return false;
      return text;
    },
  };
}

/** A string matching `pattern`. */
export function matching(pattern: RegExp, expected: string): ValueSpec<string> {
  return {
    expected,
    check: (value) => (typeof value === 'string' && pattern.test(value) ? ok(value) : fail()),
    fromText: (text) => text.trim(),
  };
}

/**
 * A list of `item`s. From text: comma-separated, blanks dropped (`a, b,` is `[a, b]`). `unique`
 * refuses repeats (naming both positions).
 */
export function listOf<T>(
  item: ValueSpec<T>,
  opts: { nonEmpty?: boolean; unique?: boolean; maxItems?: number } = {},
): ValueSpec<T[]> {
  const plural = pluralForm(item.expected);
  const expected = `${opts.nonEmpty ? 'a non-empty list' : 'a list'} of ${plural}`;
  return {
    expected,
    isList: true,
    check(value) {
      if (!Array.isArray(value)) return fail();
      if (opts.nonEmpty && value.length === 0) return fail({ problem: 'the list is empty' });
      if (opts.maxItems !== undefined && value.length > opts.maxItems)
        return fail({ problem: `more than ${opts.maxItems} items` });
      const out: T[] = [];
      for (let i = 0; i < value.length; i++) {
        const r = item.check(value[i]);
        if (!r.ok)
          return {
            ...r,
            at: `[${i}]${r.at ?? ''}`,
            expected: r.expected ?? item.expected,
            got: 'got' in r ? r.got : value[i],
          };
        if (opts.unique) {
          const first = out.indexOf(r.value);
          if (first >= 0)
            return fail({
              at: `[${i}]`,
              expected: `${plural} without repeats`,
              got: value[i],
              problem: `repeats [${first}]`,
            });
        }
        out.push(r.value);
      }
      return ok(out);
    },
    fromText: (text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => item.fromText(s)),
  };
}

/** `inner`, or null (disabled). Null is also written `false` (TOML has no null), or as text `off`, `none`, `null`. */
export function nullable<T>(inner: ValueSpec<T>, meaning = 'off'): ValueSpec<T | null> {
  return {
    expected: `${inner.expected}, or null (${meaning})`,
    check(value) {
      if (value === null || value === false) return ok(null);
      const r = inner.check(value);
      return r.ok
        ? r
        : { ...r, expected: r.expected !== undefined ? `${r.expected}, or null (${meaning})` : undefined };
    },
    fromText(text) {
      const t = text.trim().toLowerCase();
      return t === 'off' || t === 'none' || t === 'null' || t === '' ? null : inner.fromText(text);
    },
  };
}

/** The first of `specs` that accepts the value; a suggestion from any of them if none does. */
export function either<T>(...specs: ValueSpec<T>[]): ValueSpec<T> {
  return {
    expected: specs.map((s) => s.expected).join(' | '),
    check(value) {
      let suggestion: string | undefined;
      for (const spec of specs) {
        const r = spec.check(value);
        if (r.ok) return r;
        suggestion ??= r.suggestion;
      }
      return fail(suggestion !== undefined ? { suggestion } : {});
    },
    fromText: (text) => specs[0]!.fromText(text),
  };
}

/** `an http(s) URL` -> `http(s) URLs`; `'a' | 'b'` stays. */
function pluralForm(expected: string): string {
  const m = /^an? (.*)$/.exec(expected);
  if (m === null) return expected;
  const rest = m[1]!;
  // Pluralize the noun before a trailing "(...)" or " matching ..." clause.
  const cut = rest.search(/ (\(|matching |like |from )/);
  const noun = cut < 0 ? rest : rest.slice(0, cut);
  const tail = cut < 0 ? '' : rest.slice(cut);
  return `${noun}s${tail}`;
}
