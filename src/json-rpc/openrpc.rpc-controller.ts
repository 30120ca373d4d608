import { invalidParams } from '../common/domain.error';
import { JsonText } from '../common/json-text';
import { OpenRpcDocumentProvider } from './openrpc.document';
import type { RpcMethodDoc } from './openrpc.types';
import { type RpcInvocation, RpcInvocationInfo } from './rpc-args.decorator';
import { RpcController } from './rpc-controller.decorator';
import { RpcMethod } from './rpc-method.decorator';

const DISCOVER_DOC: RpcMethodDoc = {
  summary: 'The OpenRPC document of this service (the same as GET /openrpc.json)',
  description: 'As the OpenRPC specification defines `rpc.discover`: no params (none, `[]` or `{}`), no token.',
  auth: 'none',
  permissions: 'Anyone: no token is needed.',
  params: {},
  required: [],
  result: {
    name: 'OpenRPC document',
    description: 'An OpenRPC 1.3 document',
    schema: { type: 'object', required: ['openrpc', 'info', 'methods'], properties: { openrpc: { type: 'string' }, methods: { type: 'array' } } },
  },
  examples: [
    {
      name: 'the document (abridged)',
      params: {},
      result: { openrpc: '1.3.2', info: { title: 'js-result-service', version: '0.1.0' }, methods: [{ name: 'js-result_query', params: [] }] },
    },
  ],
};

/** `rpc.discover`: the service describes itself, to anyone, from the document built at start. */
@RpcController()
export class OpenRpcRpcController {
  private answer?: JsonText;

  constructor(private readonly openRpc: OpenRpcDocumentProvider) {}

  @RpcMethod('rpc.discover', { doc: DISCOVER_DOC })
  discover(@RpcInvocationInfo() invocation: RpcInvocation): JsonText {
    // Positional params past none are refused by the dispatcher; named ones are refused here.
    const names = Object.keys(invocation.params);
    if (names.length > 0) throw invalidParams(`${names[0]}: rpc.discover takes no params`);
    return (this.answer ??= new JsonText(this.openRpc.text));
  }
}
