import { compile, type JSONSchema } from 'json-schema-to-typescript';
import type { OpenRpcDocument } from '../../src/json-rpc/openrpc.document';

const BANNER = `/* eslint-disable */
/**
 * Generated from the OpenRPC document (rpc.discover) by \`npm run docs\`;
 * test/api-docs.e2e-spec.ts fails when it is stale. Do not edit by hand.
 * 64-bit integers are \`number | bigint\` (bigint past 2^53); \`token\` may be
 * left out of any call when the client was given one.
 */
`;

/**
 * The schema with every 64-bit integer typed as the client parses it, and
 * without titles: the same titled schema used by several methods would
 * otherwise become numbered copies of one type.
 */
function forTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forTypes);
  if (schema === null || typeof schema !== 'object') return schema;
  const copy = Object.fromEntries(Object.entries(schema).filter(([key]) => key !== 'title').map(([key, value]) => [key, forTypes(value)]));
  if (copy.format === 'int64' || copy.format === 'uint64') copy.tsType = 'number | bigint';
  // The document's shared schemas become the root's definitions: one named type each.
  if (typeof copy.$ref === 'string') copy.$ref = copy.$ref.replace('#/components/schemas/', '#/definitions/');
  return copy;
}

/** `src/client/methods.generated.ts`: each method's params and result as TypeScript, and its params in positional order. */
export async function clientMethodsSource(document: OpenRpcDocument): Promise<string> {
  const methods = Object.fromEntries(
    document.methods.map((method) => [
      method.name,
      {
        type: 'object',
        properties: {
          params: {
            type: 'object',
            properties: Object.fromEntries(method.params.map((p) => [p.name, p.schema])),
            required: method.params.filter((p) => p.required && p.name !== 'token').map((p) => p.name),
            additionalProperties: false,
          },
          result: method.result.schema,
        },
        required: ['params', 'result'],
        additionalProperties: false,
      },
    ]),
  );
  const definitions = Object.fromEntries(Object.entries(document.components.schemas).map(([name, schema]) => [name, { ...(forTypes(schema) as object), title: name }]));
  const root = { type: 'object', properties: forTypes(methods), required: Object.keys(methods), additionalProperties: false, definitions };
  const types = await compile(root as JSONSchema, 'RpcMethods', { bannerComment: '', format: false, additionalProperties: false });
  const order = document.methods.map((m) => `  ${JSON.stringify(m.name)}: [${m.params.map((p) => JSON.stringify(p.name)).join(', ')}],`);
  return `${BANNER}\n${types}\n/** Each method's params in positional order, as the server declares them. */\nexport const METHOD_PARAMS = {\n${order.join('\n')}\n} as const;\n`;
}
