// The repository's hand-written docs, and the parts of them the docs tests read: tables (GitHub's
// pipe tables) cell by cell. Links and headings come from the package's Markdown parser.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './service-process.js';

/** The docs a reader of the repository reads, relative to ROOT (bench/REPORT.md is generated). */
export function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', 'CONTRIBUTING.md', ...docs.sort()];
}

export function readDoc(file: string): string {
  return readFileSync(join(ROOT, file), 'utf8');
}

export interface MarkdownTable {
  /** The file's line (1-based) of the header row. */
  readonly line: number;
  readonly header: readonly string[];
  readonly rows: ReadonlyArray<{ readonly line: number; readonly cells: readonly string[] }>;
}

/** A header row followed by a delimiter row (`| --- | :-: |`) starts a table; a line without `|` ends it. */
const DELIMITER_ROW = /^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/;

/**
 * A row's cells, split as GitHub splits them: at every `|` not escaped as `\|`, code spans
 * included (a bare `|` inside backticks still ends the cell).
 */
export function cellsOf(row: string): string[] {
  const inner = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim());
}

/** Every pipe table outside fenced code blocks. */
export function tablesIn(text: string): MarkdownTable[] {
  const lines = text.split('\n');
  const tables: MarkdownTable[] = [];
  let fenced = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced || !line.trimStart().startsWith('|') || !DELIMITER_ROW.test(lines[i + 1] ?? '')) continue;
    const rows: Array<{ line: number; cells: string[] }> = [];
    let next = i + 2;
    for (; next < lines.length && (lines[next] ?? '').includes('|'); next++) {
      rows.push({ line: next + 1, cells: cellsOf(lines[next] ?? '') });
    }
    tables.push({ line: i + 1, header: cellsOf(line), rows });
    i = next - 1;
  }
  return tables;
}

/** The texts in backticks in a cell or a line: `a` and `b` in "`a` or `b`". */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? '');
}
