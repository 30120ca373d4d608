import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c as create } from 'tar';
import { isNewCluster, unpackTemplate } from './pglite.template';

describe(unpackTemplate.name, () => {
  let root: string;
  let dataDir: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'jsr-template-'));
    dataDir = join(root, 'data');
    // As lockDataDir leaves it: the directory and its lock, nothing else.
    mkdirSync(join(dataDir, '.lock'), { recursive: true });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A gzipped tar of `files` (paths relative to a cluster's root), as the template is kept. */
  function templateOf(files: Record<string, string>): string {
    const cluster = join(root, 'cluster');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(cluster, path, '..'), { recursive: true });
      writeFileSync(join(cluster, path), text);
    }
    const file = join(root, 'template.tar.gz');
    create({ file, cwd: cluster, gzip: true, sync: true }, Object.keys(files));
    return file;
  }

  it('unpacks the cluster into a new directory, and leaves the directory’s lock alone', () => {
    const sut = templateOf({ PG_VERSION: '17\n', 'base/1/112': 'page', '.lock/stray': 'not ours' });
    expect(isNewCluster(dataDir)).toBe(true);

    expect(unpackTemplate(sut, dataDir)).toBe(true);
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8')).toBe('17\n');
    expect(readFileSync(join(dataDir, 'base/1/112'), 'utf8')).toBe('page');
    expect(readdirSync(join(dataDir, '.lock'))).toEqual([]);
    expect(isNewCluster(dataDir)).toBe(false);
  });

  it('removes a template it cannot read and leaves the directory as it found it', () => {
    const sut = join(root, 'damaged.tar.gz');
    writeFileSync(sut, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));

    expect(unpackTemplate(sut, dataDir)).toBe(false);
    expect(existsSync(sut)).toBe(false);
    expect(readdirSync(dataDir)).toEqual(['.lock']);
  });

  it('does nothing without a template', () => {
    expect(unpackTemplate(join(root, 'none.tar.gz'), dataDir)).toBe(false);
    expect(readdirSync(dataDir)).toEqual(['.lock']);
  });
});
