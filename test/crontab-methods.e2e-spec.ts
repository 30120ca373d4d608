import { CrontabRpcController } from '../src/crontab/crontab.rpc-controller';
import { call, queryParams, rpc, startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const EVERY_HOUR = '0 0 * * * *';
const job = (worker: string, params: unknown = { hello: 'from_cron' }) => ({ server: { js_worker: [worker, params] } });

/** The tables' content, to show that a refused call changed nothing. */
async function tables(sut: TestApp) {
  const crontab = await sut.dataSource.query('SELECT id, name, enable, cron_expression, cron_type, last_run_time FROM crontab ORDER BY id');
  const results = await sut.dataSource.query('SELECT * FROM crontab_result ORDER BY id');
  return { crontab, results };
}

describe(`${CrontabRpcController.name} (${backendName})`, () => {
  let sut: TestApp;
  let su: string;
  const send = async (method: string, params: unknown) => (await rpc(sut.app, call(method, params))).body;
  const create = (name: string, worker = 'w', expression = EVERY_HOUR, token = su) =>
    send('crontab_create', { token, name, cron_expression: expression, cron_type: job(worker) });

  beforeAll(async () => {
    sut = await startTestApp({ crontabMaxJobs: 5 });
    su = sut.superToken;
  });
  afterAll(() => sut.close());
  beforeEach(async () => {
    await sut.dataSource.query('DELETE FROM crontab');
    await sut.dataSource.query('DELETE FROM crontab_result');
  });

  it('creates, reads, edits, disables and deletes a job with NodeGet params and results', async () => {
    const created = await create('nightly_report', 'report_builder', '0 30 2 * * *');
    expect(created.result).toEqual({ id: expect.any(Number) });
    const listed = await send('crontab_get', { token: su });
    expect(listed.result).toEqual([
      {
        id: created.result.id,
        name: 'nightly_report',
        enable: true,
        cron_expression: '0 30 2 * * *',
        cron_type: { server: { js_worker: ['report_builder', { hello: 'from_cron' }] } },
        last_run_time: null,
      },
    ]);
    // Positional params, in the order listed.
    const edited = (await rpc(sut.app, call('crontab_edit', [su, 'nightly_report', '0 0 3 * * MON-FRI 2099', job('other', [1, 2])]))).body;
    expect(edited.result).toEqual({ id: created.result.id, success: true });
    expect(await send('crontab_set_enable', { token: su, name: 'nightly_report', enable: false })).toMatchObject({
      result: { success: true, enabled: false },
    });
    const [after] = (await send('crontab_get', { token: su })).result;
    expect(after).toMatchObject({ enable: false, cron_expression: '0 0 3 * * MON-FRI 2099', cron_type: job('other', [1, 2]) });
    // Params are given back as stored: a 64-bit integer is not rounded on the way.
    await send('crontab_edit', { token: su, name: 'nightly_report', cron_expression: EVERY_HOUR, cron_type: job('other', { big: 1 }) });
    await sut.dataSource.query(`UPDATE crontab SET cron_type = '{"server": {"js_worker": ["other", {"big": 9007199254740993}]}}'`);
    expect((await rpc(sut.app, call('crontab_get', { token: su }))).text).toMatch(/"big": ?9007199254740993}/);
    expect(await send('crontab_delete', { token: su, name: 'nightly_report' })).toMatchObject({ result: { success: true } });
    expect((await send('crontab_get', { token: su })).result).toEqual([]);
  });

  it.each([
    ['an empty name', { name: '' }, 108, 'Invalid input: name cannot be empty'],
    ['a name of 129 characters', { name: 'a'.repeat(129) }, 108, 'Invalid input: name too long (max 128 chars)'],
    ['a name with a slash', { name: 'a/b' }, 108, 'Invalid input: name contains invalid characters'],
    ['a name with a control character', { name: 'a\tb' }, 108, 'Invalid input: name contains invalid characters'],
    ['five fields', { cron_expression: '* * * * *' }, 101, 'Parse error: Invalid cron expression: '],
    ['a second of 60', { cron_expression: '60 * * * * *' }, 101, 'Parse error: Invalid cron expression: '],
    ['an agent job', { cron_type: { agent: [[], { task: 'ping' }] } }, 108, 'Invalid input: agent crontabs need NodeGet agents; this service runs server.js_worker jobs'],
    ['a blank worker name', { cron_type: job('  ') }, 108, 'Invalid input: Invalid crontab payload: js worker name cannot be empty'],
    ['a cron_type of another form', { cron_type: { server: { js_worker: 'w' } } }, -32602, 'Invalid params: cron_type.server.js_worker: expected'],
    // The dashboard still offers NodeGet's removed server task; NodeGet now refuses it as params it cannot read.
    ['the removed clean_up_database task', { cron_type: { server: 'clean_up_database' } }, -32602, 'Invalid params: cron_type: expected'],
    ['a cron_expression that is not a string', { cron_expression: 5 }, -32602, 'Invalid params: cron_expression: expected'],
  ])('refuses %s and stores nothing', async (_what, change, code, message) => {
    await create('kept');
    const before = await tables(sut);
    const reply = await send('crontab_create', { token: su, name: 'new_job', cron_expression: EVERY_HOUR, cron_type: job('w'), ...change });
    expect(reply.error.code).toBe(code);
    expect(reply.error.message).toContain(message);
    expect(await tables(sut)).toEqual(before);
  });

  it('refuses params of the wrong JSON type with -32602 before looking at the token, changing nothing', async () => {
    await create('kept');
    const before = await tables(sut);
    expect((await send('crontab_set_enable', { token: 'not:a-token', name: 'kept', enable: 'yes' })).error).toMatchObject({
      code: -32602,
      message: expect.stringContaining('enable: expected true or false'),
    });
    expect((await send('crontab_delete', { token: su, name: 7 })).error).toMatchObject({ code: -32602 });
    expect((await send('crontab-result_delete', queryParams('not:a-token', [{ cron_name: 5 }]))).error).toMatchObject({
      code: -32602,
      message: expect.stringContaining('query.condition[0].cron_name'),
    });
    expect((await send('crontab_get', { token: 'not:a-token' })).error).toMatchObject({ code: 102 });
    expect(await tables(sut)).toEqual(before);
  });

  it('refuses a taken name, and more jobs than CRONTAB_MAX_JOBS, with 108', async () => {
    await create('taken');
    const before = await tables(sut);
    expect((await create('taken')).error).toEqual({ code: 108, message: 'Invalid input: Crontab name already exists: taken' });
    expect(await tables(sut)).toEqual(before);
    for (const name of ['b', 'c', 'd', 'e']) expect((await create(name)).result).toBeDefined();
    const full = await tables(sut);
    expect((await create('f')).error).toMatchObject({ code: 108, message: expect.stringContaining('CRONTAB_MAX_JOBS') });
    expect(await tables(sut)).toEqual(full);
  });

  it.each([
    ['crontab_edit', { cron_expression: EVERY_HOUR, cron_type: job('w') }],
    ['crontab_delete', {}],
    ['crontab_set_enable', { enable: true }],
  ])('%s of an unknown job is 105 in NodeGet wording, changing nothing', async (method, extra) => {
    await create('kept');
    const before = await tables(sut);
    expect((await send(method, { token: su, name: 'missing', ...extra })).error).toEqual({
      code: 105,
      message: 'Not found in database: Crontab not found: missing',
    });
    expect(await tables(sut)).toEqual(before);
  });

  it('checks crontab permissions under global and run_defined_js_worker on the worker', async () => {
    const writer = await sut.token([
      { scopes: ['global'], permissions: [{ crontab: 'write' }, { crontab: 'read' }] },
      { scopes: [{ js_worker: 'mine*' }], permissions: [{ js_worker: 'run_defined_js_worker' }] },
    ]);
    const scopedWriter = await sut.token([{ scopes: [{ js_worker: 'mine*' }], permissions: [{ crontab: 'write' }, { js_worker: 'run_defined_js_worker' }] }]);
    const nobody = await sut.token([{ scopes: ['global'], permissions: [{ js_result: { read: '*' } }] }]);
    expect((await create('ok', 'mine_1', EVERY_HOUR, writer)).result).toBeDefined();
    await create('theirs', 'theirs_1');
    const before = await tables(sut);
    const denied = async (reply: any) => expect(reply.error).toMatchObject({ code: 102, message: expect.stringMatching(/^Permission denied: /) });
    await denied(await create('x', 'other', EVERY_HOUR, writer));
    await denied(await create('x', 'mine_2', EVERY_HOUR, scopedWriter));
    await denied(await send('crontab_edit', { token: writer, name: 'theirs', cron_expression: EVERY_HOUR, cron_type: job('mine_1') }));
    await denied(await send('crontab_edit', { token: writer, name: 'ok', cron_expression: EVERY_HOUR, cron_type: job('other') }));
    await denied(await send('crontab_set_enable', { token: writer, name: 'theirs', enable: false }));
    await denied(await send('crontab_delete', { token: writer, name: 'ok' }));
    expect(await tables(sut)).toEqual(before);
    expect((await send('crontab_get', { token: nobody })).result).toEqual([]);
    expect((await send('crontab_get', { token: writer })).result.map((j: any) => j.name)).toEqual(['ok', 'theirs']);
  });

  it('queries and deletes firing records by conditions, newest first, by the job names a token may see', async () => {
    await sut.dataSource.query(
      `INSERT INTO crontab_result (cron_id, cron_name, run_time, relative_id, success, message) VALUES
        (1, 'alpha', 1000, 11, true, 'a1'), (1, 'alpha', 3000, NULL, false, 'a2'), (2, 'beta', 2000, 12, true, 'b1'), (3, 'gamma', 4000, 13, true, 'g1')`,
    );
    const q = async (token: string, condition: unknown[]) => send('crontab-result_query', queryParams(token, condition));
    expect((await q(su, [])).result.map((r: any) => r.message)).toEqual(['g1', 'a2', 'b1', 'a1']);
    expect((await q(su, [{ cron_name: 'alpha' }, 'is_success'])).result).toEqual([
      { id: expect.any(Number), cron_id: 1, cron_name: 'alpha', run_time: 1000, relative_id: 11, success: true, message: 'a1' },
    ]);
    expect((await q(su, [{ run_time_from_to: [1500, 3500] }, { last: null }])).result.map((r: any) => r.message)).toEqual(['a2']);
    expect((await q(su, ['is_failure', { cron_id: 1 }, { limit: 5 }])).result.map((r: any) => r.message)).toEqual(['a2']);
    expect((await q(su, [{ limit: 1 }, { limit: 2 }])).result).toHaveLength(2);
    const reader = await sut.token([{ scopes: ['global'], permissions: [{ crontab_result: { read: 'al*' } }, { crontab_result: { delete: 'beta' } }] }]);
    expect((await q(reader, [])).result.map((r: any) => r.message)).toEqual(['a2', 'a1']);
    expect((await q(reader, [{ cron_name: 'beta' }])).error).toMatchObject({ code: 102 });
    const before = await tables(sut);
    expect((await q(su, [{ run_time: 5 }])).error).toMatchObject({ code: -32602, message: expect.stringContaining('query.condition[0]') });
    expect((await send('crontab-result_delete', queryParams(reader, [{ cron_name: 'alpha' }]))).error).toMatchObject({ code: 102 });
    expect(await tables(sut)).toEqual(before);
    expect((await send('crontab-result_delete', queryParams(reader, []))).result).toEqual({ success: true, deleted: 1, condition_count: 0 });
    expect((await send('crontab-result_delete', queryParams(su, ['is_success', 'last']))).result).toEqual({ success: true, deleted: 1, condition_count: 2 });
    expect((await q(su, [])).result.map((r: any) => r.message)).toEqual(['a2', 'a1']);
  });
});
