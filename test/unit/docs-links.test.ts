// The repository's docs hold together: every relative link in README.md, CONTRIBUTING.md and
// docs/*.md reaches a file and, with #anchor, a heading of it; every table row has its header's
// cells (a `|` inside a cell, code spans included, must be escaped as `\|` or it splits the row);
// every repository path in backticks (`src/config.ts`, `deploy/k8s/`) names what exists.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, test } from 'node:test';
import { parseMarkdown } from '../../packages/health-views/test/helpers/markdown.js';
import { codeSpans, docFiles, readDoc, tablesIn } from '../helpers/markdown-docs.js';
import { ROOT } from '../helpers/service-process.js';

/** Files whose tables are checked too: the package's guide is read on GitHub and npm alike. */
const TABLE_FILES = [...docFiles(), 'packages/health-views/README.md'];

/** The top-level folders a path in the docs starts with; dist/ and data/ are made at run time. */
const REPOSITORY_PATH =
  /^(?:\.ci|bench|deploy|docs|examples|healthchecker|launcher|packages|scripts|src|test)\/[\w./-]*$/;

/** Why a link from file does not resolve, or undefined when it does. */
function brokenLink(file: string, target: string): string | undefined {
  if (/^[a-z]+:/i.test(target)) return undefined; // https:, mailto:: not this repository's
  const [path = '', anchor] = target.split('#');
  const linked = path === '' ? file : normalize(join(dirname(file), path));
  if (linked.startsWith('..')) return `${linked} is outside the repository`;
  if (!existsSync(join(ROOT, linked))) return `${linked} does not exist`;
  if (anchor === undefined || !linked.endsWith('.md')) return undefined;
  const { anchors } = parseMarkdown(readDoc(linked));
  return anchors.has(anchor) ? undefined : `${linked} has no heading #${anchor}`;
}

describe('the docs', () => {
  test('every relative link reaches a file, and a heading of it', () => {
    const broken = docFiles().flatMap((file) =>
      parseMarkdown(readDoc(file)).links.flatMap(({ target, line }) => {
        const why = brokenLink(file, target);
        return why === undefined ? [] : [`${file} line ${line}: (${target}): ${why}`];
      }),
    );
    assert.deepEqual(broken, [], 'links that resolve');
  });

  test('every table row has as many cells as its header', () => {
    const broken = TABLE_FILES.flatMap((file) =>
      tablesIn(readDoc(file)).flatMap(({ header, rows }) =>
        rows
          .filter(({ cells }) => cells.length !== header.length)
          .map(({ line, cells }) => `${file} line ${line}: ${cells.length} cells, its header ${header.length}`),
      ),
    );
    assert.deepEqual(broken, [], 'rows whose cell count is the header\'s (escape a "|" inside a cell as "\\|")');
  });

  test('every repository path in backticks exists', () => {
    const missing = docFiles().flatMap((file) =>
      readDoc(file)
        .split('\n')
        .flatMap((text, index) =>
          codeSpans(text)
            .filter((span) => REPOSITORY_PATH.test(span) && !existsSync(join(ROOT, span)))
            .map((span) => `${file} line ${index + 1}: ${span}`),
        ),
    );
    assert.deepEqual(missing, [], 'paths that exist');
  });
});
