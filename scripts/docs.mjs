#!/usr/bin/env node
// Builds the TypeDoc API site (typedoc.json) and fails if any exported declaration lacks a doc
// comment. TypeDoc 0.28's own `validation.notDocumented` reports nothing (TypeStrong/typedoc#3046),
// so the check walks the converted project here.
import * as td from 'typedoc';

const app = await td.Application.bootstrapWithPlugins({}, [new td.TypeDocReader(), new td.TSConfigReader()]);
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
