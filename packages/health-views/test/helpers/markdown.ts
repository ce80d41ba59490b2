// The parts of a Markdown file the README test reads: fenced code blocks (with the line they start
// on, the heading they stand under and the marker comment before them), links and headings.

export interface CodeBlock {
  /** The fence's info string, e.g. `ts`, `yaml`. */
  readonly lang: string;
  readonly code: string;
  /** The file's line (1-based) of the block's first line of code. */
  readonly line: number;
  /** The heading the block stands under. */
  readonly section: string;
  /** The HTML comment on the last non-blank line before the fence, e.g. `fragment: needs a database`. */
  readonly marker: string | undefined;
}

export interface Link {
  readonly target: string;
  readonly line: number;
}

export interface MarkdownParts {
  readonly blocks: readonly CodeBlock[];
  readonly links: readonly Link[];
  /** Each heading's anchor as GitHub writes it (`## Options of \`x\`` -> `options-of-x`). */
  readonly anchors: ReadonlySet<string>;
}

const FENCE = /^```(\S*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*)$/;
const MARKER = /^<!--\s*(.*?)\s*-->$/;

export function parseMarkdown(text: string): MarkdownParts {
  const lines = text.split('\n');
  const blocks: CodeBlock[] = [];
  const links: Link[] = [];
  const anchors = new Set<string>();
  let section = '';
  let lastText = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      const end = lines.indexOf('```', i + 1);
      if (end < 0) throw new Error(`README line ${i + 1}: a code block that never ends`);
      const marker = MARKER.exec(lastText)?.[1];
      blocks.push({ lang: fence[1] ?? '', code: lines.slice(i + 1, end).join('\n'), line: i + 2, section, marker });
      i = end;
      lastText = '';
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      section = heading[2] ?? '';
      anchors.add(anchorOf(section));
    }
    links.push(...linksIn(line, i + 1));
    if (line.trim() !== '') lastText = line.trim();
  }
  return { blocks, links, anchors };
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function linksIn(line: string, lineNumber: number): Link[] {
  const prose = line.replace(/`[^`]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => ({ target: match[1] ?? '', line: lineNumber }));
}
