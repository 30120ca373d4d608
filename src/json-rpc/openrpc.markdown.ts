import { type OpenRpcDocument, type OpenRpcMethod, UNDESCRIBED } from './openrpc.document';

/**
 * The API reference (docs/api.md) written from the OpenRPC document, so that
 * the reference says what the service says of itself (`npm run docs`).
 */

const AUTH: Record<OpenRpcMethod['x-auth'], string> = {
  none: 'no token',
  token: 'a token (`token` param)',
  supertoken: 'the super token',
  unknown: 'not described yet',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const json = (value: unknown) => JSON.stringify(value);

const COMPONENT_REF = /^#\/components\/schemas\/(.+)$/;
const anchor = (name: string) => name.replace(/[^a-z0-9_-]/gi, '').toLowerCase();

function schemaText(schema: unknown): string {
  const ref = COMPONENT_REF.exec(String((schema as { $ref?: unknown }).$ref ?? ''))?.[1];
  if (ref !== undefined && Object.keys(schema as object).length === 1) return `[\`${ref}\`](#${anchor(ref)})`;
  const text = json(schema);
  return text === '{}' ? 'any JSON' : `\`${cell(text)}\``;
}

function methodSection(method: OpenRpcMethod): string {
  const lines = [`### \`${method.name}\``, '', method.summary + '.', ''];
  if (method.description) lines.push(method.description, '');
  lines.push(`- Needs: ${AUTH[method['x-auth']]}.`);
  if (method['x-permissions']) lines.push(`- Permissions: ${method['x-permissions']}`);
  if (method['x-websocket-only']) lines.push('- WebSocket only.');
  lines.push('');
  if (method.params.length > 0) {
    lines.push('| # | param | required | schema |', '|---|---|---|---|');
    method.params.forEach((p, i) => lines.push(`| ${i} | \`${p.name}\` | ${p.required ? 'yes' : 'no'} | ${schemaText(p.schema)} |`));
    lines.push('');
  } else {
    lines.push('No params (none, `[]` or `{}`).', '');
  }
  lines.push(`Result \`${method.result.name}\`: ${schemaText(method.result.schema)}`, '');
  lines.push('| code | meaning | data (example) |', '|---|---|---|');
  for (const e of method.errors) lines.push(`| ${e.code} | ${cell(e.message)} | ${e.data === undefined ? '' : `\`${cell(json(e.data))}\``} |`);
  lines.push('');
  for (const example of method.examples) {
    const params = Object.fromEntries(example.params.map((p) => [p.name, p.value]));
    lines.push(`Example, ${example.name}:`, '', '```json', json({ jsonrpc: '2.0', id: 1, method: method.name, params }), json({ jsonrpc: '2.0', id: 1, result: example.result.value }), '```', '');
  }
  return lines.join('\n');
}

export function openRpcMarkdown(document: OpenRpcDocument): string {
  const undescribed = document.methods.filter((m) => m[UNDESCRIBED]).map((m) => `\`${m.name}\``);
  const parts = [
    '# API reference',
    '',
    '<!-- Generated from the OpenRPC document (rpc.discover) by `npm run docs`; test/api-docs.e2e-spec.ts fails when it is stale. Do not edit by hand. -->',
    '',
    `${document.info.title} ${document.info.version}, OpenRPC ${document.openrpc}. ${document.info.description}`,
    '',
    'The same document is served by `rpc.discover` (JSON-RPC, no token) and `GET /openrpc.json`.',
    '',
    '## Servers',
    '',
    // The document names the configured address; the reference names its parts.
    ...document.servers.map((s) => `- \`${s.url.replace(/\/\/[^/]+/, '//<HOST>:<PORT>')}\`: ${s.summary}`),
    '',
    '## Error data',
    '',
    'Codes and messages are NodeGet\'s. Where there is something to act on, the error has `data`, of this shape per code:',
    '',
    '| code | data schema |',
    '|---|---|',
    ...Object.entries(document['x-error-data']).map(([code, schema]) => `| ${code} | \`${cell(json(schema))}\` |`),
    '',
    '## Methods',
    '',
    ...document.methods.map((m) => `- [\`${m.name}\`](#${anchor(m.name)}): ${m.summary}`),
    '',
    ...document.methods.map(methodSection),
  ];
  parts.push('## Schemas', '', 'Shared by several methods (`components.schemas`; `$ref` `#/components/schemas/<name>`).', '');
  for (const [name, schema] of Object.entries(document.components.schemas)) parts.push(`### ${name}`, '', '```json', JSON.stringify(schema, null, 2), '```', '');
  if (undescribed.length > 0) parts.push('## Not described yet', '', `Listed with schemas that accept anything: ${undescribed.join(', ')}.`, '');
  return parts.join('\n');
}
