/**
 * A small JSON Schema checker for the subset the admin API documents (src/control/api/schema-dsl.ts):
 * type (string or list; "integer"), properties, required, additionalProperties (boolean or schema),
 * items, enum, minimum, maximum, oneOf (exactly one must match) and local `$ref`s. Returns every problem
 * with its JSON path; unknown keywords are an error, so a schema cannot silently check less than it says.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  'type',
  'description',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'minimum',
  'maximum',
  'oneOf',
  '$ref',
  'format',
  'example',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const t = typeOf(v);
  return want === t || (want === 'number' && t === 'integer');
}

export function validate(schema: Schema, value: unknown, root: Schema, path = '$'): string[] {
  for (const k of Object.keys(schema))
    if (!KNOWN.has(k)) return [`${path}: schema keyword '${k}' not supported`];
  if (typeof schema.$ref === 'string') {
    const m = /^#\/components\/schemas\/(\w+)$/.exec(schema.$ref);
    const target = m ? ((root.components as Schema).schemas as Record<string, Schema>)[m[1]!] : undefined;
    if (!target) return [`${path}: unresolvable $ref ${schema.$ref}`];
    return validate(target, value, root, path);
  }
  if (Array.isArray(schema.oneOf)) {
    const matching = (schema.oneOf as Schema[]).filter((s) => validate(s, value, root, path).length === 0);
    return matching.length === 1 ? [] : [`${path}: matches ${matching.length} of the oneOf schemas`];
  }
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value)))
      return [`${path}: expected ${types.join('|')}, got ${typeOf(value)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value))
    errors.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errors.push(`${path}: below minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errors.push(`${path}: above maximum`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => {
      errors.push(...validate(schema.items as Schema, item, root, `${path}[${i}]`));
    });
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[])
      if (!(r in obj)) errors.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) errors.push(...validate(props[k]!, v, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errors.push(`${path}: unexpected property ${k}`);
      else if (typeof schema.additionalProperties === 'object')
        errors.push(...validate(schema.additionalProperties as Schema, v, root, `${path}.${k}`));
    }
  }
  return errors;
}
