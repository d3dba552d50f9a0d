/**
 * The translation as YAML text: a header listing everything not translated or translated with a
 * difference (file:line), the config, and comments tracing each service and instance back to its
 * keepalived block.
 */
import { Document, isCollection, isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ImportNote } from './scope.js';
import type { Translation } from './translate.js';

export function noteLine(n: ImportNote): string {
  const what = n.kind === 'untranslated' ? 'not translated' : 'changed';
  return `${n.file}:${n.line}: ${what}: ${n.statement}: ${n.reason}`;
}

/** Short lists of scalars read best on one line. */
function flowShortLists(node: unknown): void {
  if (isSeq(node)) {
    if (node.items.every((i) => isScalar(i)) && node.items.length <= 8) node.flow = true;
  }
  if (isCollection(node)) {
    for (const item of node.items) {
      if (isMap(node)) flowShortLists((item as { value: unknown }).value);
      else flowShortLists(item);
    }
  }
}

export function emitYaml(source: string, t: Translation, notes: readonly ImportNote[]): string {
  const doc = new Document(t.config);
  flowShortLists(doc.contents);
  const header = [
    ` tslvs config translated from ${source} by \`tslvs import-keepalived\`.`,
    ' Review it, then validate it with `tslvs check -c FILE`.',
  ];
  const untranslated = notes.filter((n) => n.kind === 'untranslated');
  const changed = notes.filter((n) => n.kind === 'changed');
  if (untranslated.length > 0) {
    header.push('', ` Not translated (${untranslated.length}): these need your attention`);
    for (const n of untranslated) header.push(`   ${n.file}:${n.line}: ${n.statement}: ${n.reason}`);
  }
  if (changed.length > 0) {
    header.push('', ` Translated with a difference (${changed.length})`);
    for (const n of changed) header.push(`   ${n.file}:${n.line}: ${n.statement}: ${n.reason}`);
  }
  doc.commentBefore = header.join('\n');
  for (const c of t.comments) {
    const node = doc.getIn(c.path, true) as Node | undefined;
    if (!node) continue;
    if (c.before) node.commentBefore = c.text;
    else node.comment = c.text;
  }
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
