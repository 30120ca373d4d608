import { Client } from 'pg';
import { importNodeGetCrontabs } from '../src/crontab/crontab.import';
import { createWorker, rpcCall } from './support/js-worker.helpers';
import { runCli } from './support/processes';
import { startTestApp } from './support/test-app';
import { createPostgresDatabase, LOCAL_POSTGRES_URL, postgresReachable, serverUrl } from './support/test-database';

const LONG_AGO = 1_700_000_000_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** NodeGet's tables as its migrations m20260206_035808_create_crontab and m20260206_040842_create_crontab_result make them. */
const NODEGET_SCHEMA = [
  `CREATE TABLE crontab (id bigserial PRIMARY KEY, name varchar NOT NULL UNIQUE, enable boolean NOT NULL,
     cron_expression varchar NOT NULL, cron_type jsonb NOT NULL, last_run_time bigint NULL)`,
  `CREATE UNIQUE INDEX "idx-crontab-name" ON crontab (name)`,
  `CREATE TABLE crontab_result (id bigserial PRIMARY KEY, cron_id bigint NOT NULL, cron_name varchar NOT NULL,
     relative_id bigint NULL, run_time bigint NULL, success boolean NULL, message varchar NULL)`,
  `CREATE TABLE token (id bigserial PRIMARY KEY, version integer NOT NULL, token_key varchar NOT NULL UNIQUE, token_hash varchar NOT NULL,
     time_stamp_from bigint, time_stamp_to bigint, token_limit jsonb NOT NULL, username varchar UNIQUE, password_hash varchar)`,
];

// NodeGet's database is PostgreSQL whatever this service runs on; once per CI run is enough.
(serverUrl ? describe : describe.skip)(`${importNodeGetCrontabs.name} (postgres)`, () => {
  it("brings NodeGet's server schedules and their firing records along, keeping last_run_time; the jobs fire here", async () => {
    if (!(await postgresReachable())) return console.warn(`skipped: no PostgreSQL server at ${LOCAL_POSTGRES_URL}`);
    const nodeget = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const ours = await createPostgresDatabase(LOCAL_POSTGRES_URL);
    const nodegetUrl = (nodeget.target as { url: string }).url;
    try {
      const sut = await startTestApp({}, ours);
      try {
        await createWorker(sut.app, sut.superToken, 'tick', 'export default { onCron(params) { return params; } }');
        await rpcCall(sut.app, 'crontab_create', { token: sut.superToken, name: 'taken', cron_expression: '0 0 0 1 1 * 2099', cron_type: { server: { js_worker: ['tick', null] } } });
        const source = new Client({ connectionString: nodegetUrl });
        await source.connect();
        try {
          for (const statement of NODEGET_SCHEMA) await source.query(statement);
          await source.query(
            `INSERT INTO crontab (id, name, enable, cron_expression, cron_type, last_run_time) VALUES
              (7, 'nightly_report', true, '0 30 2 * * *', '{"server": {"js_worker": ["report_builder", {"big": 9007199254740993}]}}', ${LONG_AGO}),
              (8, 'every_second', true, '* * * * * *', '{"server": {"js_worker": ["tick", {"n": 1}]}}', ${LONG_AGO}),
              (9, 'pinger', true, '0 * * * * *', '{"agent": [["00000000-0000-0000-0000-000000000001"], {"task": {"ping": "1.1.1.1"}}]}', NULL),
              (10, 'taken', false, '0 0 * * * *', '{"server": {"js_worker": ["tick", null]}}', NULL)`,
          );
          await source.query(
            `INSERT INTO crontab_result (cron_id, cron_name, relative_id, run_time, success, message) VALUES
              (7, 'nightly_report', 4242, ${LONG_AGO}, true, 'ok'), (9, 'pinger', 5, ${LONG_AGO}, true, 'agent'), (10, 'taken', 6, 1, false, 'x')`,
          );
        } finally {
          await source.end();
        }

        const env = { DATABASE_URL: (ours.target as { url: string }).url };
        const imported = await runCli(['import-nodeget', '--from', nodegetUrl], env);
        expect(imported.code).toBe(0);
        expect(JSON.parse(imported.lastLine).crontab).toEqual({ imported: 2, skipped_name_taken: 1, skipped_agent: 1, results_imported: 1 });
        expect(JSON.parse((await runCli(['import-nodeget', '--from', nodegetUrl], env)).lastLine).crontab.imported).toBe(0);

        // Heard at once (the table's trigger): kept last_run_time from 2023, the job fires once for the latest 02:30 missed since.
        await sleep(1_000);
        const jobs = (await rpcCall(sut.app, 'crontab_get', { token: sut.superToken })).result;
        const report = jobs.find((j: any) => j.name === 'nightly_report');
        const latest = new Date();
        latest.setUTCHours(2, 30, 0, 0);
        if (latest.getTime() > Date.now()) latest.setUTCDate(latest.getUTCDate() - 1);
        expect(report).toMatchObject({ enable: true, cron_expression: '0 30 2 * * *', last_run_time: latest.getTime() });
        const [{ cron_type }] = await sut.dataSource.query(`SELECT cron_type::text FROM crontab WHERE name = 'nightly_report'`);
        expect(cron_type).toContain('9007199254740993');
        const records = (await rpcCall(sut.app, 'crontab-result_query', { token: sut.superToken, query: { condition: [{ cron_name: 'nightly_report' }] } })).result;
        expect(records).toEqual([
          { id: expect.any(Number), cron_id: report.id, cron_name: 'nightly_report', run_time: latest.getTime(), relative_id: null, success: false, message: 'js_worker not found: report_builder' },
          { id: expect.any(Number), cron_id: report.id, cron_name: 'nightly_report', run_time: LONG_AGO, relative_id: 4242, success: true, message: 'ok' },
        ]);

        await sleep(1_000);
        const fired = (await rpcCall(sut.app, 'crontab-result_query', { token: sut.superToken, query: { condition: [{ cron_name: 'every_second' }] } })).result;
        expect(fired.length).toBeGreaterThanOrEqual(1);
        expect(fired.every((f: any) => f.success && f.run_time > LONG_AGO)).toBe(true);
      } finally {
        await sut.close();
      }
    } finally {
      await Promise.all([nodeget.drop(), ours.drop()]);
    }
  });
});
