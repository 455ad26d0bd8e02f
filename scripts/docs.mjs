#!/usr/bin/env node
// Checks the Markdown, then builds the TypeDoc API site (typedoc.json) and fails if any exported
// declaration lacks a doc comment.
//
// Markdown first (scripts/tables.mjs, scripts/links.mjs): every table between
// `<!-- table:source=… view=… -->` and `<!-- /table -->` must equal what its results JSON gives
// (`node scripts/docs.mjs --write` rewrites them and stops), and every relative link must name a
// file and heading that exist.
//
// The API site: TypeDoc 0.28's own `validation.notDocumented` reports nothing (TypeStrong/typedoc#3046),
// so the check walks the converted project here.
//
// Modules are named by their package and export path (`@disco/superpixel`, `@disco/colorize/node`)
// instead of their folder (`superpixel/src`), and each package's README.md becomes a document page
// under its main module.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as td from 'typedoc';
import { checkLinks } from './links.mjs';
import { checkTables, markdownFiles } from './tables.mjs';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const write = process.argv.includes('--write');
const tableProblems = checkTables(root, { write });
const markdownProblems = [...tableProblems, ...(write ? [] : checkLinks(root, markdownFiles(root)))];
if (markdownProblems.length > 0) {
  for (const p of markdownProblems) console.error(`docs: ${p}`);
  process.exit(1);
}
if (write) {
  console.log('docs: every generated table equals its JSON');
  process.exit(0);
}

const app = await td.Application.bootstrapWithPlugins({}, [new td.TypeDocReader(), new td.TSConfigReader()]);

/** `superpixel/src` → `{ dir: 'packages/superpixel', name: '@disco/superpixel' }`, `colorize/src/node` → `…/node`. */
function packageOfModule(moduleName) {
  const m = /^(?:packages\/)?([\w.-]+)\/src(?:\/(.+))?$/.exec(moduleName);
  if (!m) return null;
  const dir = path.join('packages', m[1]);
  const pkgFile = path.join(dir, 'package.json');
  if (!existsSync(pkgFile)) return null;
  const { name } = JSON.parse(readFileSync(pkgFile, 'utf8'));
  return { dir, name: m[2] ? `${name}/${m[2]}` : name, main: !m[2] };
}

app.converter.on(td.Converter.EVENT_RESOLVE_BEGIN, (context) => {
  for (const mod of context.project.getReflectionsByKind(td.ReflectionKind.Module)) {
    const pkg = packageOfModule(mod.name);
    if (!pkg) continue;
    mod.name = pkg.name;
    const readme = path.resolve(pkg.dir, 'README.md');
    if (pkg.main && existsSync(readme)) {
      app.converter.addDocument(mod, new td.MinimalSourceFile(readFileSync(readme, 'utf8'), readme), 'README');
    }
  }
});

const project = await app.convert();
if (!project || app.logger.hasErrors()) process.exit(1);

const K = td.ReflectionKind;
const required = K.Function | K.Class | K.Interface | K.TypeAlias | K.Variable | K.Enum | K.Method | K.Property | K.Accessor;
const commented = (r) =>
  r.hasComment() ||
  (r.signatures ?? []).some((s) => s.hasComment()) ||
  r.getSignature?.hasComment() ||
  r.setSignature?.hasComment();
const missing = [];
for (const r of Object.values(project.reflections)) {
  if (!r.kindOf(required) || r.flags.isPrivate || r.flags.isProtected || r.flags.isExternal) continue;
  if (r.inheritedFrom || r.implementationOf) continue; // documented where declared
  // Members of inline object types inside a documented declaration carry that declaration's docs.
  if (r.parent?.kindOf(K.TypeLiteral)) continue;
  if (!commented(r)) {
    const src = r.sources?.[0];
    missing.push(`${r.getFullName()} (${td.ReflectionKind.singularString(r.kind)})${src ? ` ${src.fileName}:${src.line}` : ''}`);
  }
}
if (missing.length > 0) {
  console.error(`docs: ${missing.length} exported declaration(s) without a doc comment:`);
  for (const m of missing) console.error(`  - ${m}`);
  process.exit(1);
}
await app.generateDocs(project, app.options.getValue('out'));
if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exit(1);
console.log(`docs: every exported declaration is documented; site in ${app.options.getValue('out')}`);
