/** Minimal reader of Debian machine-readable `copyright` files (DEP-5) to find a file's license. */

/** One `Files:` paragraph of a DEP-5 file. */
export interface Dep5Paragraph {
  /** Glob patterns of the `Files:` field (`*` and `?` match any character, `/` included). */
  files: string[];
  /** First line of the `License:` field (the short name, e.g. `GPL-3+`). */
  license: string;
  /** `Copyright:` field, lines joined with `; `. */
  copyright: string;
}

/** Parses the `Files:` paragraphs of a DEP-5 `copyright` file (others are ignored). */
export function parseDep5(text: string): Dep5Paragraph[] {
  const out: Dep5Paragraph[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const fields: Record<string, string[]> = {};
    let key = '';
    for (const line of para.split('\n')) {
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
      if (m && !/^\s/.test(line)) {
        key = m[1]!.toLowerCase();
        fields[key] = [m[2]!];
      } else if (key && /^\s/.test(line)) {
        fields[key]!.push(line.trim());
      }
    }
    if (fields['files'] && fields['license']) {
      out.push({
        files: fields['files'].join(' ').split(/\s+/).filter(Boolean),
        license: fields['license'][0]!.trim(),
        copyright: (fields['copyright'] ?? []).filter((l) => l && l !== '.').join('; '),
      });
    }
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/**
 * The paragraph that governs a file: DEP-5 says the last matching `Files:` paragraph wins. Each
 * candidate path is tried (e.g. the upstream source path of a resource and its installed path).
 * Returns `undefined` when nothing matches (not even `*`).
 */
export function dep5LicenseFor(paragraphs: readonly Dep5Paragraph[], candidates: readonly string[]): Dep5Paragraph | undefined {
  let found: Dep5Paragraph | undefined;
  for (const p of paragraphs) {
    if (p.files.some((g) => candidates.some((c) => globToRegExp(g).test(c)))) found = p;
  }
  return found;
}
