// The package's promise to its users: nothing at run time but node: modules and its own files.
// The adapters name no framework at run time, so importing health-views/fastify, /express or /koa
// loads none.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const src = new URL('../src/', import.meta.url);

describe('package boundary', () => {
  it('has no runtime dependencies', () => {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(manifest.dependencies, undefined);
    for (const framework of ['fastify', 'express', 'koa']) {
      assert.equal(manifest.peerDependenciesMeta?.[framework]?.optional, true, `${framework}: an optional peer`);
    }
  });

  it('imports only node: modules and its own files at run time', () => {
    const offenders: string[] = [];
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts'));
    assert.ok(files.includes('checks/http.ts'), `the walk reaches src/checks/ (found ${files.join(', ')})`);
    for (const file of files) {
      const text = readFileSync(new URL(file, src), 'utf8');
      const found = [
        ...[...text.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)].map(([, type, from]) => ({
          typeOnly: type !== undefined,
          specifier: from!,
        })),
        // import 'x' (for its effects) and import('x') (on first use) load at run time all the same.
        ...[...text.matchAll(/^import\s+'([^']+)'|\bimport\('([^']+)'\)/gm)].map(([, bare, lazy]) => ({
          typeOnly: false,
          specifier: (bare ?? lazy)!,
        })),
      ];
      for (const { typeOnly, specifier } of found) {
        if (typeOnly || /^(node:|\.\/|\.\.\/(?!\.\.))/.test(specifier)) continue;
        offenders.push(`${file}: ${specifier}`);
      }
    }
    assert.deepEqual(offenders, []);
  });

  it("declares every type of the root entry in src/types.ts (README: 'the whole public surface is one file')", () => {
    const entry = fileURLToPath(new URL('index.ts', src));
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    const elsewhere: string[] = [];
    const types: string[] = [];
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      if (symbol.flags & ts.SymbolFlags.Value) continue; // createHealth, withHealth...: the code
      const file = symbol.declarations?.[0]?.getSourceFile().fileName ?? '(none)';
      if (file.endsWith('/src/types.ts')) types.push(exported.name);
      else elsewhere.push(`${exported.name} (${file.slice(file.lastIndexOf('/src/') + 1)})`);
    }
    assert.ok(types.includes('Health') && types.includes('ShutdownOptions'), `types found: ${types.join(', ')}`);
    assert.deepEqual(elsewhere, [], 'types of the root entry declared outside src/types.ts');
  });
});
