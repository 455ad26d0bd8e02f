// Relative links between the repository's Markdown files: every `](path)` and `](path#heading)`
// outside code must name a file that exists and, for a Markdown file, a heading it has.
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces → `-`. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Markdown without fenced code blocks and inline code (links there are not links). */
function prose(markdown) {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors of a Markdown text's headings (code spans in a heading count as their text). */
export function anchorsOf(markdown) {
  const noFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const anchors = new Set();
  for (const m of noFences.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1].replace(/`/g, ''));
    let a = base;
    for (let i = 1; anchors.has(a); i++) a = `${base}-${i}`;
    anchors.add(a);
  }
  return anchors;
}

/** One line per broken relative link of `file` (relative to `root`). */
export function checkLinksOf(root, file, read = (f) => readFileSync(f, 'utf8')) {
  const problems = [];
  const markdown = read(path.join(root, file));
  const text = prose(markdown);
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    const [rel, anchor] = target.split('#');
    const resolved = rel === '' ? path.join(root, file) : path.resolve(path.join(root, path.dirname(file)), decodeURI(rel));
    if (!existsSync(resolved)) {
      problems.push(`${file}: link to ${target}: no such file`);
      continue;
    }
    if (anchor && resolved.endsWith('.md') && statSync(resolved).isFile()) {
      if (!anchorsOf(read(resolved)).has(anchor)) problems.push(`${file}: link to ${target}: no heading #${anchor}`);
    }
  }
  return problems;
}

/** Broken relative links in every given Markdown file. */
export function checkLinks(root, files) {
  return files.flatMap((f) => checkLinksOf(root, f));
}
