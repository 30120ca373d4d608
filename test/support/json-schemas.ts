import Ajv from 'ajv';
import addFormats from 'ajv-formats';

/** Ajv for the service's JSON Schemas: the standard formats, and the 64-bit integer formats the document uses. */
export function schemaValidator(): Ajv {
  const ajv = addFormats(new Ajv({ strict: true, strictRequired: false, allErrors: true }));
  ajv.addFormat('int64', { type: 'number', validate: Number.isInteger });
  ajv.addFormat('uint64', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  return ajv;
}

/** The schema with each `$ref` to the document's `components.schemas` replaced by the schema itself, for Ajv to compile alone. */
export function inlineComponents(schema: unknown, components: Readonly<Record<string, unknown>>): any {
  if (Array.isArray(schema)) return schema.map((item) => inlineComponents(item, components));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    return inlineComponents(components[ref.slice('#/components/schemas/'.length)], components);
  }
  return Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, inlineComponents(value, components)]));
}
