/**
 * The layer rules (docs/architecture.md, "Layers"), checked on every import in src/, web/ and workers/:
 *
 * - `src/protocol` and `src/actors` import nothing of ours outside themselves but the leaf `src/errors.ts`
 *   (a leaf: it imports nothing of ours, so the layers below stay closed through it too);
 * - `src/node` never imports `src/platform`, `src/devnet`, `src/cli` or `web`;
 * - nothing outside `src/devnet`, `src/cli`, `bench` and `test` imports `src/devnet`.
 *
 * "Import" means every way a module gets another: static imports and re-exports (type-only too),
 * `import()` and `import('...')` types, `new URL('...', import.meta.url)`, and any other string
 * literal that is a relative path to an existing `.js`/`.ts` module (a specifier kept in a variable
 * to hide it from bundlers is still an import). Package imports are not ours and are not checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

interface LayerViolation {
  /** The importing file, relative to the checked root (`src/node/node.ts`). */
  readonly file: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** The imported file, relative to the root. */
  readonly target: string;
  readonly rule: string;
}

interface FoundSpecifier {
  readonly specifier: string;
  /** An import position (always a module) or a plain string literal (a module only if the file exists). */
  readonly kind: 'import' | 'string';
}

const MODULE_PATH = /^\.\.?\/.*\.[mc]?[jt]s$/;

/** Every relative specifier in one source text, found on its syntax tree (so comments never count). */
function relativeSpecifiers(text: string, fileName: string): FoundSpecifier[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: FoundSpecifier[] = [];
  const importPositions = new Set<ts.Node>();
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
      importPositions.add(node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0])
      importPositions.add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      importPositions.add(node.argument.literal);
    else if (ts.isNewExpression(node) && node.expression.getText(source) === 'URL' && node.arguments?.[0])
      importPositions.add(node.arguments[0]);
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      const kind = importPositions.has(node) ? 'import' : 'string';
      if (node.text.startsWith('./') || node.text.startsWith('../')) found.push({ specifier: node.text, kind });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The file a relative specifier names: `.js` written for a `.ts` source resolves to the `.ts`. */
function resolveSpecifier(fromFile: string, specifier: string): { path: string; exists: boolean } {
  const path = resolve(dirname(fromFile), specifier);
  const candidates = [path, path.replace(/\.js$/, '.ts'), path.replace(/\.mjs$/, '.mts')];
  const existing = candidates.find((c) => existsSync(c));
  return { path: existing ?? candidates[1]!, exists: existing !== undefined };
}

const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** The rules each import must keep; `from` and `to` are root-relative, `/`-separated. */
function brokenRules(from: string, to: string): string[] {
  const broken: string[] = [];
  if (from === 'src/errors.ts') broken.push('src/errors.ts is a leaf: it imports nothing of ours');
  for (const leaf of ['src/protocol', 'src/actors'])
    if (within(from, leaf) && !within(to, leaf) && to !== 'src/errors.ts')
      broken.push(`${leaf} imports nothing of ours but src/errors.ts`);
  if (within(from, 'src/node'))
    for (const outer of ['src/platform', 'src/devnet', 'src/cli', 'web'])
      if (within(to, outer)) broken.push(`src/node never imports ${outer}`);
  if (within(to, 'src/devnet') && !['src/devnet', 'src/cli', 'bench', 'test'].some((dir) => within(from, dir)))
    broken.push('only src/devnet, src/cli, bench and test import src/devnet');
  return broken;
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.[mc]?ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Every import under `root`'s src/, web/ and workers/ that breaks a layer rule, in file order. */
function checkLayers(root: string): LayerViolation[] {
  const rel = (path: string) => relative(root, path).split(sep).join('/');
  const violations: LayerViolation[] = [];
  const files = ['src', 'web', 'workers'].flatMap((dir) => tsFiles(join(root, dir))).sort();
  for (const file of files) {
    for (const { specifier, kind } of relativeSpecifiers(readFileSync(file, 'utf8'), file)) {
      if (kind === 'string' && !MODULE_PATH.test(specifier)) continue;
      const target = resolveSpecifier(file, specifier);
      if (kind === 'string' && !target.exists) continue;
      for (const rule of brokenRules(rel(file), rel(target.path)))
        violations.push({ file: rel(file), specifier, target: rel(target.path), rule });
    }
  }
  return violations;
}

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = resolve(import.meta.dirname, 'fixtures/layers');

/**
 * Known violations, each to be removed by the change that fixes it. A stale entry fails the test
 * so that the list cannot outlive its reason.
 */
const ALLOWED: readonly Pick<LayerViolation, 'file' | 'specifier'>[] = [];

const isAllowed = (v: LayerViolation) => ALLOWED.some((a) => a.file === v.file && a.specifier === v.specifier);
const describeViolation = (v: LayerViolation) => `${v.file}: '${v.specifier}' -> ${v.target} (${v.rule})`;

describe('layer rules', () => {
  it('hold for src/, web/ and workers/', () => {
    const violations = checkLayers(ROOT);
    expect(violations.filter((v) => !isAllowed(v)).map(describeViolation)).toEqual([]);
    const stale = ALLOWED.filter((a) => !violations.some((v) => v.file === a.file && v.specifier === a.specifier));
    expect(stale, 'allow-list entries that no longer match a violation: delete them').toEqual([]);
  });

  it('catch one forbidden import of each kind in a fixture tree', () => {
    expect(checkLayers(FIXTURE).map(describeViolation)).toEqual([
      "src/actors/actor.ts: '../platform/adapter.js' -> src/platform/adapter.ts (src/actors imports nothing of ours but src/errors.ts)",
      "src/errors.ts: './protocol/local.js' -> src/protocol/local.ts (src/errors.ts is a leaf: it imports nothing of ours)",
      "src/node/node.ts: '../devnet/chain.js' -> src/devnet/chain.ts (src/node never imports src/devnet)",
      "src/node/node.ts: '../devnet/chain.js' -> src/devnet/chain.ts (only src/devnet, src/cli, bench and test import src/devnet)",
      "src/node/node.ts: '../cli/main.js' -> src/cli/main.ts (src/node never imports src/cli)",
      "src/node/node.ts: '../platform/adapter.js' -> src/platform/adapter.ts (src/node never imports src/platform)",
      "src/node/node.ts: '../../web/page.ts' -> web/page.ts (src/node never imports web)",
      "src/platform/adapter.ts: '../devnet/chain.js' -> src/devnet/chain.ts (only src/devnet, src/cli, bench and test import src/devnet)",
      "src/protocol/backend.ts: '../platform/native.js' -> src/platform/native.ts (src/protocol imports nothing of ours but src/errors.ts)",
      "src/protocol/codec.ts: '../node/types.js' -> src/node/types.ts (src/protocol imports nothing of ours but src/errors.ts)",
      "web/page.ts: '../src/devnet/chain.js' -> src/devnet/chain.ts (only src/devnet, src/cli, bench and test import src/devnet)",
    ]);
  });

  it('finds specifiers in every import position and in module-path strings, never in comments', () => {
    const text = [
      "import type { A } from './a.js';",
      "export { b } from './b.js';",
      "const c = () => import('./c.js');",
      "type D = typeof import('./d.js');",
      "const e = new URL('./e.ts', import.meta.url);",
      "const F = './f.js';",
      "// import('./in-a-comment.js')",
      "/* new URL('./also-a-comment.ts', import.meta.url) */",
      "const g = 'not a path';",
    ].join('\n');
    expect(relativeSpecifiers(text, 'x.ts')).toEqual([
      { specifier: './a.js', kind: 'import' },
      { specifier: './b.js', kind: 'import' },
      { specifier: './c.js', kind: 'import' },
      { specifier: './d.js', kind: 'import' },
      { specifier: './e.ts', kind: 'import' },
      { specifier: './f.js', kind: 'string' },
    ]);
  });

  it('allow src/errors.ts from the leaf layers, and src/devnet from the CLI, bench and tests', () => {
    expect(brokenRules('src/protocol/bls/index.ts', 'src/errors.ts')).toEqual([]);
    expect(brokenRules('src/actors/system.ts', 'src/errors.ts')).toEqual([]);
    expect(brokenRules('src/protocol/bls/index.ts', 'src/protocol/errors.ts')).toEqual([]);
    for (const from of ['src/cli/devnet.ts', 'bench/sync.ts', 'test/devnet/devnet.test.ts', 'src/devnet/p2p.ts'])
      expect(brokenRules(from, 'src/devnet/devnet.ts')).toEqual([]);
    expect(brokenRules('src/node/node.ts', 'src/config/schema.ts')).toEqual([]);
  });
});
