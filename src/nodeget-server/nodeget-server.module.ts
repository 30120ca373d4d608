import { Module } from '@nestjs/common';
import { TokenModule } from '../token/token.module';
import { NodegetServerRpcController } from './nodeget-server.rpc-controller';
import { NodegetServerService } from './nodeget-server.service';
import { ServerSecretRepository } from './server-secret.repository';

/** The `nodeget-server` namespace: NodeGet's heartbeat and server identity, for its dashboard. */
@Module({
  imports: [TokenModule],
  providers: [NodegetServerService, NodegetServerRpcController, ServerSecretRepository],
  exports: [ServerSecretRepository],
})
export class NodegetServerModule {}
