import { Injectable } from '@nestjs/common';
import { ServerSecretRepository } from './server-secret.repository';
import packageJson from '../../package.json';

/**
 * The version of NodeGet whose API (docs/api at commit cc1fa46, 2026-06-24)
 * this service's NodeGet namespaces were checked against. NodeGet's dashboard
 * shows it and compares it as a semantic version.
 */
export const NODEGET_API_VERSION = '0.5.15';

export const HELLO = 'NodeGet Server Is Running!';

/**
 * NodeGet's `NodeGetVersion`, its fields in NodeGet's order. The git, build
 * and Rust fields describe a NodeGet binary's build; this service is not
 * one and records no build metadata, so they are empty strings. Its own
 * name and version follow.
 */
export interface NodeGetVersion {
  binary_type: 'Server';
  cargo_version: string;
  git_branch: string;
  git_commit_sha: string;
  git_commit_date: string;
  git_commit_message: string;
  build_time: string;
  cargo_target_triple: string;
  rustc_channel: string;
  rustc_version: string;
  rustc_commit_date: string;
  rustc_commit_hash: string;
  rustc_llvm_version: string;
  service_name: string;
  service_version: string;
}

const VERSION: Readonly<NodeGetVersion> = Object.freeze({
  binary_type: 'Server',
  cargo_version: NODEGET_API_VERSION,
  git_branch: '',
  git_commit_sha: '',
  git_commit_date: '',
  git_commit_message: '',
  build_time: '',
  cargo_target_triple: '',
  rustc_channel: '',
  rustc_version: '',
  rustc_commit_date: '',
  rustc_commit_hash: '',
  rustc_llvm_version: '',
  service_name: packageJson.name,
  service_version: packageJson.version,
});

/** The server's identity, as NodeGet's `nodeget-server` namespace gives it. */
@Injectable()
export class NodegetServerService {
  /** The UUID never changes once made (by a migration), so it is read once; a failed read is retried by the next call. */
  private serverUuid?: Promise<string>;

  constructor(private readonly secrets: ServerSecretRepository) {}

  version(): Readonly<NodeGetVersion> {
    return VERSION;
  }

  uuid(): Promise<string> {
    this.serverUuid ??= this.readUuid().catch((error: unknown) => {
      this.serverUuid = undefined;
      throw error;
    });
    return this.serverUuid;
  }

  /** This service has no NodeGet agents. */
  listAllAgentUuid(): { uuids: string[] } {
    return { uuids: [] };
  }

  private async readUuid(): Promise<string> {
    const uuid = await this.secrets.read('server_uuid');
    if (uuid === undefined) throw new Error('server_secret has no server_uuid: the AddServerUuid migration has not run');
    return uuid;
  }

}
