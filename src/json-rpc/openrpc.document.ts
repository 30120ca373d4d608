import { Inject, Injectable, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import packageJson from '../../package.json';
import { APP_CONFIG, type AppConfig } from '../config/app.config';
import { JSR_RESOLVED_OPTIONS } from '../config/config.module';
import type { ResolvedServiceOptions } from '../config/service.options';
import { JSON_RPC_PATHS } from './json-rpc.http.controller';
import { COMPONENT_NAME, ERROR_DATA_SCHEMAS, RPC_ERRORS } from './openrpc.schemas';
import type { JsonSchema, RpcErrorDoc, RpcMethodDoc } from './openrpc.types';
import type { RpcMethodMetadata } from './rpc-method.decorator';
import { RpcMethodExplorer } from './rpc-method.explorer';

export const OPENRPC_VERSION = '1.3.2';

/** The marker of a method listed without a `doc`: its schemas accept anything. */
export const UNDESCRIBED = 'x-undescribed';

export interface OpenRpcDocument {
  openrpc: string;
  info: { title: string; version: string; description: string };
  servers: { name: string; url: string; summary: string }[];
  methods: OpenRpcMethod[];
  components: { schemas: Record<string, JsonSchema> };
  'x-error-data': Readonly<Record<string, JsonSchema>>;
}

export interface OpenRpcMethod {
  name: string;
  summary: string;
  description?: string;
  tags: { name: string }[];
  paramStructure: 'either';
  params: { name: string; required: boolean; schema: JsonSchema }[];
  result: { name: string; description?: string; schema: JsonSchema };
  errors: RpcErrorDoc[];
  examples: { name: string; summary?: string; params: { name: string; value: unknown }[]; result: { name: string; value: unknown } }[];
  'x-auth': RpcMethodDoc['auth'] | 'unknown';
  'x-permissions'?: string;
  'x-websocket-only'?: boolean;
  [UNDESCRIBED]?: true;
}

/** Where clients reach the service, as configured (a wildcard listen address is written `localhost`). */
export function serversOf(config: Pick<AppConfig, 'host' | 'port'>, paths: readonly string[] = JSON_RPC_PATHS): OpenRpcDocument['servers'] {
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  return paths.flatMap((path) => [
    { name: `http${path}`, url: `http://${host}:${config.port}${path}`, summary: 'JSON-RPC 2.0 over HTTP POST: single calls, batches, notifications' },
    { name: `ws${path}`, url: `ws://${host}:${config.port}${path}`, summary: 'JSON-RPC 2.0 over WebSocket: everything HTTP has, and subscriptions' },
  ]);
}

/** The errors any method can answer with, then those its token brings, then its own. */
function errorsOf(doc: RpcMethodDoc | undefined): RpcErrorDoc[] {
  const errors: RpcErrorDoc[] = [RPC_ERRORS.invalidParams, RPC_ERRORS.internal, RPC_ERRORS.database];
  if (doc === undefined || doc.auth !== 'none') errors.push(RPC_ERRORS.tokenParse, RPC_ERRORS.permissionDenied, RPC_ERRORS.tooManyLogins);
  for (const error of doc?.errors ?? []) {
    if (!errors.some((known) => known.code === error.code && known.message === error.message)) errors.push(error);
  }
  return errors;
}

/**
 * Lists each schema marked with `component(name, ...)` once, under
 * `components.schemas`, and puts a `$ref` in its places; two different
 * schemas under one name are a mistake in a doc, refused at start.
 */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  hoist(schema: JsonSchema): JsonSchema {
    return this.walk(schema) as JsonSchema;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value === null || typeof value !== 'object') return value;
    const { [COMPONENT_NAME]: name, ...rest } = value as Record<string, unknown>;
    const walked = Object.fromEntries(Object.entries(rest).map(([key, item]) => [key, this.walk(item)]));
    if (typeof name !== 'string') return walked;
    const known = this.schemas[name];
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(walked)) throw new Error(`OpenRPC: two different schemas are named ${name}`);
    this.schemas[name] = walked;
    return { $ref: `#/components/schemas/${name}` };
  }
}

function describedMethod(metadata: RpcMethodMetadata, doc: RpcMethodDoc, components: Components): OpenRpcMethod {
  const names = metadata.params;
  const method: OpenRpcMethod = {
    name: metadata.name,
    summary: doc.summary,
    tags: [{ name: namespaceOf(metadata.name) }],
    paramStructure: 'either',
    params: names.map((name) => ({ name, required: doc.required.includes(name), schema: components.hoist(doc.params[name] ?? {}) })),
    result: { ...doc.result, schema: components.hoist(doc.result.schema) },
    errors: errorsOf(doc),
    examples: (doc.examples ?? []).map((example) => ({
      name: example.name,
      ...(example.summary === undefined ? {} : { summary: example.summary }),
      params: names.filter((name) => name in example.params).map((name) => ({ name, value: example.params[name] })),
      result: { name: doc.result.name, value: example.result },
    })),
    'x-auth': doc.auth,
  };
  if (doc.description !== undefined) method.description = doc.description;
  if (doc.permissions !== undefined) method['x-permissions'] = doc.permissions;
  if (doc.webSocketOnly === true) method['x-websocket-only'] = true;
  return method;
}

/** A method whose module declared no doc yet: listed, callable, with schemas that accept anything. */
function undescribedMethod(metadata: RpcMethodMetadata): OpenRpcMethod {
  return {
    name: metadata.name,
    summary: `${metadata.name} (not described yet)`,
    tags: [{ name: namespaceOf(metadata.name) }],
    paramStructure: 'either',
    params: metadata.params.map((name) => ({ name, required: false, schema: {} })),
    result: { name: 'result', schema: {} },
    errors: errorsOf(undefined),
    examples: [],
    'x-auth': 'unknown',
    [UNDESCRIBED]: true,
  };
}

/** `js-result_query` → `js-result`; `rpc.discover` → `rpc`. */
function namespaceOf(name: string): string {
  const at = name.search(/[_.]/);
  return at > 0 ? name.slice(0, at) : name;
}

/** The OpenRPC document of the registered methods, ordered by name so that it does not depend on module order. */
export function buildOpenRpcDocument(methods: readonly RpcMethodMetadata[], servers: OpenRpcDocument['servers']): OpenRpcDocument {
  const components = new Components();
  const described = [...methods]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((m) => (m.doc ? describedMethod(m, m.doc, components) : undescribedMethod(m)));
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: packageJson.name,
      version: packageJson.version,
      description:
        "JSON-RPC 2.0 service for JS worker results, wire-compatible with NodeGet's js-result namespace. " +
        'Params by name or by position in the order listed; 64-bit integers are JSON numbers, kept exact. ' +
        "Errors keep NodeGet's codes and messages; `data`, where present, has the shape given for its code in `x-error-data`.",
    },
    servers,
    methods: described,
    components: { schemas: Object.fromEntries(Object.entries(components.schemas).sort(([a], [b]) => (a < b ? -1 : 1))) },
    'x-error-data': ERROR_DATA_SCHEMAS,
  };
}

/**
 * The document, built once when the application starts (from every
 * `@RpcMethod` the explorer found) and kept as text: `rpc.discover` and
 * `GET /openrpc.json` only send it.
 */
@Injectable()
export class OpenRpcDocumentProvider implements OnApplicationBootstrap {
  private built?: { document: OpenRpcDocument; text: string };

  constructor(
    private readonly explorer: RpcMethodExplorer,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'host' | 'port'>,
    // The paths an embedding application mounts JSON-RPC at (JsResultServiceModule); absent or empty, the server's.
    @Optional() @Inject(JSR_RESOLVED_OPTIONS) private readonly mounted?: Pick<ResolvedServiceOptions, 'paths'>,
  ) {}

  onApplicationBootstrap(): void {
    // The explorer registers the methods in its own bootstrap hook; if it has not run yet, the first request builds the document.
    if (this.explorer.explored) this.build();
  }

  get document(): OpenRpcDocument {
    return (this.built ?? this.build()).document;
  }

  get text(): string {
    return (this.built ?? this.build()).text;
  }

  private build(): { document: OpenRpcDocument; text: string } {
    const document = buildOpenRpcDocument(this.explorer.registered(), serversOf(this.config, this.mounted?.paths.length ? this.mounted.paths : JSON_RPC_PATHS));
    this.built = { document, text: JSON.stringify(document) };
    return this.built;
  }
}
