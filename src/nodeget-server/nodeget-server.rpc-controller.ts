import { UseGuards } from '@nestjs/common';
import { RpcParams } from '../json-rpc/rpc-args.decorator';
import { RpcController } from '../json-rpc/rpc-controller.decorator';
import { RpcMethod } from '../json-rpc/rpc-method.decorator';
import { TokenGuard } from '../token/token.guard';
import { HELLO_DOC, LIST_ALL_AGENT_UUID_DOC, UUID_DOC, VERSION_DOC } from './nodeget-server.openrpc';
import { ListAllAgentUuidParamsDto } from './nodeget-server.params';
import { HELLO, type NodeGetVersion, NodegetServerService } from './nodeget-server.service';

/**
 * NodeGet's `nodeget-server` methods that its dashboard needs: its heartbeat
 * (`hello`, every 30 s; the dashboard drops the connection when it fails) and
 * the server's identity. hello, version and uuid need no token, as on NodeGet.
 */
@RpcController()
export class NodegetServerRpcController {
  constructor(private readonly service: NodegetServerService) {}

  @RpcMethod('nodeget-server_hello', { doc: HELLO_DOC })
  hello(): string {
    return HELLO;
  }

  @RpcMethod('nodeget-server_version', { doc: VERSION_DOC })
  version(): Readonly<NodeGetVersion> {
    return this.service.version();
  }

  @RpcMethod('nodeget-server_uuid', { doc: UUID_DOC })
  uuid(): Promise<string> {
    return this.service.uuid();
  }

  /** Any valid token may ask (NodeGet's own permission check would only narrow an empty list); bad ones are 101/102. */
  @RpcMethod('nodeget-server_list_all_agent_uuid', { doc: LIST_ALL_AGENT_UUID_DOC })
  @UseGuards(TokenGuard)
  listAllAgentUuid(@RpcParams() _params: ListAllAgentUuidParamsDto): { uuids: string[] } {
    return this.service.listAllAgentUuid();
  }
}
