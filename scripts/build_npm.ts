/**
 * Builds the npm package from the sources JSR publishes, as dnt would, then
 * runs the tests under Node against the build.
 *
 *     deno run -A scripts/build_npm.ts
 *     bun scripts/build_npm.ts
 *
 * 1. Reads the name, version, license, exports map and compiler options of
 *    `deno.json`.
 * 2. Compiles `mod.ts`, every entry point of the exports map, `tests/` and
 *    `examples/` with the TypeScript compiler to ES2022 modules, the `.ts`
 *    import specifiers rewritten to `.js`. The package goes to `npm/esm/` with
 *    its declaration files. The tests go to `npm/test/` with the other files
 *    under `tests/`, and the examples to `npm/examples/` with the other files
 *    under `examples/` (so that `node npm/examples/echo_server.js` runs),
 *    their imports of the package's sources pointed at `npm/esm/`, so they
 *    run against what is published.
 * 3. Writes `npm/package.json`, whose `files` holds `esm/` only, and whose
 *    `dependencies` are the `npm:` packages of the `deno.json` import map
 *    (the sources import them by their bare names, which Deno maps and
 *    Node and Bun find in `node_modules`), and copies `README.md` and
 *    `LICENSE`. The `./cli` entry point, which starts with
 *    `#!/usr/bin/env node`, becomes the `seed-websocket` program (`bin`).
 * 4. Runs `node --test` over the compiled test files.
 *
 * The compiler checks the package with the strict options of `deno.json`, lib
 * ES2022 and DOM, and the Node types: any type error in the package, such as
 * an API Node 20 lacks, stops the build; so does one in an example, since
 * Node runs them. The tests' type errors are left to `deno check`, which runs
 * with Deno's own library.
 *
 * Only `node:*` modules and the `typescript` package are used, so Deno and Bun
 * run it alike. It exits non-zero if the build stops or a test fails.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));
const out = join(root, "npm");
const esm = join(out, "esm");
const testOut = join(out, "test");
const testSrc = join(root, "tests");
const exampleOut = join(out, "examples");
const exampleSrc = join(root, "examples");
/** Sources compiled beside the package rather than into it, and where each goes. */
const besidePackage: [source: string, output: string][] = [
  [testSrc, testOut],
  [exampleSrc, exampleOut],
];

/** The export subpath of the command-line tool, and the name of its `bin`. */
const CLI_SUBPATH = "./cli";
const CLI_NAME = "seed-websocket";

/** The fields of `deno.json` the build reads. */
interface DenoConfig {
  name: string;
  version: string;
  license: string;
  exports: string | Record<string, string>;
  imports?: Record<string, string>;
  compilerOptions?: Record<string, unknown>;
}

/** An entry point: its export subpath and its source, relative to the root. */
type EntryPoint = [subpath: string, source: string];

function formatDiagnostics(diagnostics: readonly ts.Diagnostic[]): string {
  const host: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => root,
    getNewLine: () => "\n",
  };
  return process.stdout.isTTY
    ? ts.formatDiagnosticsWithColorAndContext(diagnostics, host)
    : ts.formatDiagnostics(diagnostics, host);
}

/** Reads `deno.json`, which may hold comments and trailing commas. */
function readDenoConfig(): DenoConfig {
  const path = join(root, "deno.json");
  const { config, error } = ts.parseConfigFileTextToJson(path, readFileSync(path, "utf8"));
  if (error !== undefined) throw new Error(`Cannot read deno.json: ${formatDiagnostics([error])}`);
  for (const field of ["name", "version", "license"]) {
    if (typeof config[field] !== "string") {
      throw new Error(`Cannot build the npm package: deno.json has no "${field}" string`);
    }
  }
  if (config.exports === undefined) {
    throw new Error(`Cannot build the npm package: deno.json has no "exports"`);
  }
  return config;
}

/** Lists the entry points of the exports map in its order, `"."` first. */
function entryPoints(exports: DenoConfig["exports"]): EntryPoint[] {
  const entries: [string, unknown][] = typeof exports === "string"
    ? [[".", exports]]
    : Object.entries(exports);
  for (const [subpath, source] of entries) {
    if (typeof source !== "string" || !/^\.\/.+\.ts$/.test(source) || source.endsWith(".d.ts")) {
      throw new Error(
        `Cannot build the npm package: export "${subpath}" is ${
          JSON.stringify(source)
        }, expected "./<path>.ts"`,
      );
    }
    if (!existsSync(join(root, source))) {
      throw new Error(
        `Cannot build the npm package: export "${subpath}" names ${source}, which does not exist`,
      );
    }
  }
  return (entries as EntryPoint[]).sort(([a], [b]) => Number(b === ".") - Number(a === "."));
}

/** Lists the files under a directory, recursively, sorted. */
function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesUnder(path));
    else if (entry.isFile()) files.push(path);
  }
  return files.sort();
}

/** Whether a file is a TypeScript module, not a declaration file. */
function isModule(path: string): boolean {
  return path.endsWith(".ts") && !path.endsWith(".d.ts");
}

/** Whether `path` lies inside the directory `dir`. */
function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolutePath(rel);
}

function isAbsolutePath(path: string): boolean {
  return path.startsWith(sep) || /^[a-zA-Z]:/.test(path);
}

/** A path relative to the root, with `/` separators, for messages. */
function shown(path: string): string {
  return relative(root, path).split(sep).join("/");
}

/** A relative module specifier from the directory `from` to the file `to`. */
function specifierBetween(from: string, to: string): string {
  const rel = relative(from, to).split(sep).join("/");
  return rel.startsWith("../") ? rel : `./${rel}`;
}

/**
 * Passes every module specifier of a file (imports, re-exports, `import()`
 * calls and `import("...")` types) through `map`.
 */
function mapSpecifiers(
  sourceFile: ts.SourceFile,
  context: ts.TransformationContext,
  map: (specifier: string) => string,
): ts.SourceFile {
  const { factory } = context;
  const mappedLiteral = (literal: ts.StringLiteral): ts.StringLiteral => {
    const text = map(literal.text);
    return text === literal.text ? literal : factory.createStringLiteral(text);
  };
  const mapped = (specifier: ts.Expression): ts.Expression =>
    ts.isStringLiteral(specifier) ? mappedLiteral(specifier) : specifier;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      return factory.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        mapped(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      return factory.updateExportDeclaration(
        node,
        node.modifiers,
        node.isTypeOnly,
        node.exportClause,
        mapped(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (
      ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      return factory.updateImportTypeNode(
        node,
        factory.updateLiteralTypeNode(
          node.argument,
          mappedLiteral(node.argument.literal),
        ),
        node.attributes,
        node.qualifier,
        ts.visitNodes(node.typeArguments, visit, ts.isTypeNode),
        node.isTypeOf,
      );
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [specifier, ...rest] = node.arguments;
      if (specifier !== undefined) {
        return factory.updateCallExpression(node, node.expression, node.typeArguments, [
          mapped(specifier),
          ...rest.map((argument) => ts.visitNode(argument, visit, ts.isExpression)),
        ]);
      }
    }
    return ts.visitEachChild(node, visit, context);
  };
  return ts.visitEachChild(sourceFile, visit, context);
}

/**
 * A transformer of the emitted JavaScript: in a test or an example, a
 * relative import of a file outside `tests/` (or `examples/`) is pointed at
 * that file's build in `npm/esm/`, since the module itself is written to
 * `npm/test/` (or `npm/examples/`). It runs after the `.ts` specifiers
 * became `.js`.
 */
function pointAtPackage(context: ts.TransformationContext): ts.Transformer<ts.SourceFile> {
  return (sourceFile) => {
    const beside = besidePackage.find(([source]) => isInside(sourceFile.fileName, source));
    if (beside === undefined) return sourceFile;
    const [source, output] = beside;
    const sourceDir = dirname(sourceFile.fileName);
    const outDir = dirname(join(output, relative(source, sourceFile.fileName)));
    return mapSpecifiers(sourceFile, context, (specifier) => {
      if (!specifier.startsWith(".")) return specifier;
      const target = resolve(sourceDir, specifier);
      if (isInside(target, source)) return specifier;
      if (!isInside(target, root)) {
        throw new Error(
          `Cannot build for npm: ${shown(sourceFile.fileName)} imports ${specifier}`,
        );
      }
      return specifierBetween(outDir, join(esm, relative(root, target)));
    });
  };
}

/**
 * A transformer of the emitted declaration files: rewrites relative `.ts`
 * specifiers to `.js`, which TypeScript does in JavaScript only.
 */
function declareJsSpecifiers(
  context: ts.TransformationContext,
): ts.Transformer<ts.SourceFile | ts.Bundle> {
  return (node) =>
    ts.isSourceFile(node)
      ? mapSpecifiers(
        node,
        context,
        (specifier) =>
          specifier.startsWith(".") && isModule(specifier)
            ? `${specifier.slice(0, -".ts".length)}.js`
            : specifier,
      )
      : node;
}

/**
 * Compiles the package to `npm/esm/`, the tests to `npm/test/` and the
 * examples to `npm/examples/`.
 *
 * @returns The compiled test files, the helpers left out.
 */
function compile(config: DenoConfig, entries: EntryPoint[]): string[] {
  const strict = ts.convertCompilerOptionsFromJson(config.compilerOptions ?? {}, root);
  if (strict.errors.length > 0) {
    throw new Error(`Cannot read deno.json: ${formatDiagnostics(strict.errors)}`);
  }
  const options: ts.CompilerOptions = {
    ...strict.options,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // DOM with its iterable parts, which TypeScript 6 merges into it: Node has them.
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts", "lib.dom.asynciterable.d.ts"],
    types: ["node"],
    typeRoots: [join(root, "node_modules", "@types")],
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    isolatedModules: true,
    declaration: true,
    rootDir: root,
    outDir: esm,
    newLine: ts.NewLineKind.LineFeed,
    skipLibCheck: true,
  };
  const rootNames = new Set([
    join(root, "mod.ts"),
    ...entries.map(([, source]) => join(root, source)),
    ...filesUnder(testSrc).filter(isModule),
    ...filesUnder(exampleSrc).filter(isModule),
  ]);
  const program = ts.createProgram({ rootNames: [...rootNames], options });
  const diagnostics = ts.getPreEmitDiagnostics(program).filter((diagnostic) =>
    diagnostic.file === undefined || !isInside(diagnostic.file.fileName, testSrc)
  );
  if (diagnostics.length > 0) {
    const setting = `TypeScript ${ts.version}, lib ES2022 and DOM and the Node types`;
    throw new Error(
      `Cannot build the npm package under ${setting}:\n${formatDiagnostics(diagnostics)}`,
    );
  }

  const builtTests = join(esm, "tests");
  const builtExamples = join(esm, "examples");
  const tests: string[] = [];
  const result = program.emit(
    undefined,
    (fileName, text) => {
      let path = resolve(fileName);
      if (isInside(path, builtTests)) {
        if (path.endsWith(".d.ts")) return;
        path = join(testOut, relative(builtTests, path));
        if (path.endsWith("_test.js")) tests.push(path);
      } else if (isInside(path, builtExamples)) {
        if (path.endsWith(".d.ts")) return;
        path = join(exampleOut, relative(builtExamples, path));
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    },
    undefined,
    false,
    {
      after: [pointAtPackage],
      afterDeclarations: [declareJsSpecifiers],
    },
  );
  if (result.emitSkipped || result.diagnostics.length > 0) {
    throw new Error(`Cannot compile for npm:\n${formatDiagnostics(result.diagnostics)}`);
  }
  // Fixtures and other files the tests and examples read sit where they did beside them.
  for (const [source, output] of besidePackage) {
    for (const path of filesUnder(source).filter((path) => !isModule(path))) {
      const copy = join(output, relative(source, path));
      mkdirSync(dirname(copy), { recursive: true });
      copyFileSync(path, copy);
    }
  }
  return tests.sort();
}

/** Writes `npm/package.json` and copies the files npm always publishes. */
function writePackage(config: DenoConfig, entries: EntryPoint[]): void {
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [subpath, source] of entries) {
    const built = `./esm/${source.slice("./".length, -".ts".length)}`;
    exports[subpath] = { types: `${built}.d.ts`, default: `${built}.js` };
  }
  // The command-line tool, when there is one, is also the package's program.
  const cli = entries.find(([subpath]) => subpath === CLI_SUBPATH);
  const bin = cli === undefined ? {} : { bin: { [CLI_NAME]: exports[CLI_SUBPATH]!.default } };
  const manifest = {
    name: config.name,
    version: config.version,
    license: config.license,
    type: "module",
    engines: { node: ">=20" },
    exports,
    ...bin,
    files: ["esm/"],
    dependencies: npmDependencies(config.imports ?? {}),
  };
  writeFileSync(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (cli !== undefined) chmodSync(join(out, exports[CLI_SUBPATH]!.default), 0o755);
  for (const file of ["README.md", "LICENSE"]) copyFileSync(join(root, file), join(out, file));
}

/** The packages of the import map's `npm:` entries, `"npm:name@version"`, with their versions. */
function npmDependencies(imports: Record<string, string>): Record<string, string> {
  const dependencies: Record<string, string> = {};
  for (const [name, target] of Object.entries(imports)) {
    const match = /^npm:(@?[^@]+)@(.+)$/.exec(target);
    if (match === null || match[1] !== name) {
      throw new Error(
        `Cannot build the npm package: import "${name}" maps to ${target}, expected "npm:${name}@<version>"`,
      );
    }
    dependencies[name] = match[2]!;
  }
  return dependencies;
}

/** Runs the compiled tests under Node. */
function runTests(tests: string[]): number {
  // Node runs one test file fewer than the CPUs at a time; on two CPUs that is one.
  // Strict: an unhandled rejection fails its test file even if something listens for it.
  const args = [
    "--unhandled-rejections=strict",
    "--test",
    "--test-reporter=spec",
    `--test-concurrency=${availableParallelism()}`,
  ];
  args.push(...tests.map((path) => relative(out, path)));
  const { status, error } = spawnSync("node", args, { cwd: out, stdio: "inherit" });
  if (error !== undefined) throw error;
  return status ?? 1;
}

try {
  const config = readDenoConfig();
  const entries = entryPoints(config.exports);
  rmSync(out, { recursive: true, force: true });
  const tests = compile(config, entries);
  writePackage(config, entries);
  const subpaths = entries.map(([subpath]) => subpath).join(", ");
  console.log(
    `Built ${config.name}@${config.version} in npm/ (${subpaths}) and ${tests.length} test files`,
  );
  process.exitCode = runTests(tests);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
