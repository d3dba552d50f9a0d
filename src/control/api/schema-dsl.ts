/**
 * The JSON Schema subset the admin API documents itself with (OpenAPI 3.1 uses JSON Schema 2020-12):
 * type (one or a list, "null" for nullable), properties/required/additionalProperties, items, enum,
 * minimum/maximum, oneOf and `$ref` to `#/components/schemas/...`. Small builders keep route tables short.
 */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: readonly (string | number | boolean | null)[];
  minimum?: number;
  maximum?: number;
  oneOf?: JsonSchema[];
  $ref?: string;
  format?: string;
  example?: unknown;
}

export const str = (description?: string): JsonSchema => ({
  type: 'string',
  ...(description ? { description } : {}),
});
export const int = (description?: string, minimum?: number, maximum?: number): JsonSchema => ({
  type: 'integer',
  ...(description ? { description } : {}),
  ...(minimum !== undefined ? { minimum } : {}),
  ...(maximum !== undefined ? { maximum } : {}),
});
export const num = (description?: string): JsonSchema => ({
  type: 'number',
  ...(description ? { description } : {}),
});
export const bool = (description?: string): JsonSchema => ({
  type: 'boolean',
  ...(description ? { description } : {}),
});
export const arr = (items: JsonSchema, description?: string): JsonSchema => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});
export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const oneOf = (...schemas: JsonSchema[]): JsonSchema => ({ oneOf: schemas });
export const enumOf = (values: readonly string[], description?: string): JsonSchema => ({
  type: 'string',
  enum: values,
  ...(description ? { description } : {}),
});

/** `{type: [t, 'null']}` for a nullable primitive; a `$ref` or composite becomes oneOf [x, null]. */
export function nullable(s: JsonSchema): JsonSchema {
  if (typeof s.type === 'string' && !s.$ref) return { ...s, type: [s.type, 'null'] };
  return { oneOf: [s, { type: 'null' }] };
}

/**
 * An object; every listed property is required unless its name ends with '?'. Closed by default
 * (`additionalProperties: false`) so a documented response cannot grow undocumented fields.
 */
export function obj(
  props: Record<string, JsonSchema>,
  opts: { open?: boolean | JsonSchema; description?: string } = {},
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [k, v] of Object.entries(props)) {
    const optional = k.endsWith('?');
    const name = optional ? k.slice(0, -1) : k;
    properties[name] = v;
    if (!optional) required.push(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: opts.open ?? false,
    ...(opts.description ? { description: opts.description } : {}),
  };
}

/** A map from any key to values of one schema. */
export const dict = (values: JsonSchema, description?: string): JsonSchema => ({
  type: 'object',
  additionalProperties: values,
  ...(description ? { description } : {}),
});

/** Any JSON value. */
export const any = (description?: string): JsonSchema => (description ? { description } : {});
