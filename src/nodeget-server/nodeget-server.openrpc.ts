import { EXAMPLE_TOKEN, TOKEN } from '../json-rpc/openrpc.schemas';
import type { RpcMethodDoc } from '../json-rpc/openrpc.types';
import { HELLO } from './nodeget-server.service';

/** NodeGet's `nodeget-server` methods as the OpenRPC document describes them. */

const NO_TOKEN = 'Anyone: no token is needed, as on NodeGet.';

export const HELLO_DOC: RpcMethodDoc = {
  summary: "NodeGet's heartbeat: the dashboard calls it every 30 s and drops the connection when it fails",
  auth: 'none',
  permissions: NO_TOKEN,
  params: {},
  required: [],
  result: { name: 'greeting', schema: { const: HELLO } },
  examples: [{ name: 'heartbeat', params: {}, result: HELLO }],
};

const VERSION_FIELDS = [
  'binary_type',
  'cargo_version',
  'git_branch',
  'git_commit_sha',
  'git_commit_date',
  'git_commit_message',
  'build_time',
  'cargo_target_triple',
  'rustc_channel',
  'rustc_version',
  'rustc_commit_date',
  'rustc_commit_hash',
  'rustc_llvm_version',
  'service_name',
  'service_version',
];

export const VERSION_DOC: RpcMethodDoc = {
  summary: "The server's identity as NodeGet gives it (cargo_version: the NodeGet API version this service follows)",
  auth: 'none',
  permissions: NO_TOKEN,
  params: {},
  required: [],
  result: {
    name: 'version',
    schema: { type: 'object', properties: Object.fromEntries(VERSION_FIELDS.map((field) => [field, { type: 'string' }])), required: VERSION_FIELDS },
  },
};

export const UUID_DOC: RpcMethodDoc = {
  summary: "The server's UUID, made once and never changed",
  auth: 'none',
  permissions: NO_TOKEN,
  params: {},
  required: [],
  result: { name: 'uuid', schema: { type: 'string', format: 'uuid' } },
};

export const LIST_ALL_AGENT_UUID_DOC: RpcMethodDoc = {
  summary: 'The agents this server knows: none (this service has no agents; the dashboard asks)',
  auth: 'token',
  permissions: 'Any valid token.',
  params: { token: TOKEN },
  required: ['token'],
  result: { name: 'agents', schema: { type: 'object', properties: { uuids: { type: 'array', items: { type: 'string' } } }, required: ['uuids'] } },
  examples: [{ name: 'no agents', params: { token: EXAMPLE_TOKEN }, result: { uuids: [] } }],
};
