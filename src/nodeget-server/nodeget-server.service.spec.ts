import { DataSource } from 'typeorm';
import packageJson from '../../package.json';
import type { Database } from '../database/database';
import { NODEGET_API_VERSION, NodegetServerService } from './nodeget-server.service';
import { ServerSecretRepository } from './server-secret.repository';

const RUST_BUILD_FIELDS = [
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
];

/** The service over a Database whose statements answer what `query` gives; the builder is TypeORM's own. */
function serviceOver(query: jest.Mock): NodegetServerService {
  const dataSource = new DataSource({ type: 'postgres' });
  return new NodegetServerService(new ServerSecretRepository({ dataSource, first: async (statement: unknown) => (await query(statement))[0] } as unknown as Database));
}

describe(NodegetServerService.name, () => {
  it("answers version with NodeGet's fields, then this service's name and version", () => {
    const sut = serviceOver(jest.fn());
    const version = sut.version();
    expect(Object.keys(version)).toEqual(['binary_type', 'cargo_version', ...RUST_BUILD_FIELDS, 'service_name', 'service_version']);
    expect(version).toMatchObject({
      binary_type: 'Server',
      cargo_version: NODEGET_API_VERSION,
      service_name: packageJson.name,
      service_version: packageJson.version,
    });
    for (const field of RUST_BUILD_FIELDS) expect(version[field as keyof typeof version]).toBe('');
    expect(NODEGET_API_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('reads the stored uuid once', async () => {
    const query = jest.fn().mockResolvedValue([{ value: '6f1c2d7e-0000-4000-8000-000000000001' }]);
    const sut = serviceOver(query);
    expect(await sut.uuid()).toBe('6f1c2d7e-0000-4000-8000-000000000001');
    expect(await sut.uuid()).toBe('6f1c2d7e-0000-4000-8000-000000000001');
    expect(query).toHaveBeenCalledTimes(1);
  });

  it('reads it again after a failed read, rather than keep the failure', async () => {
    const query = jest.fn().mockRejectedValueOnce(new Error('boom')).mockResolvedValue([{ value: 'u' }]);
    const sut = serviceOver(query);
    await expect(sut.uuid()).rejects.toThrow('boom');
    expect(await sut.uuid()).toBe('u');
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('lists no agent uuids: this service has no NodeGet agents', () => {
    expect(serviceOver(jest.fn()).listAllAgentUuid()).toEqual({ uuids: [] });
  });
});
