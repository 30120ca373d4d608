import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OpenRpcDocumentProvider } from '../src/json-rpc/openrpc.document';
import { openRpcMarkdown } from '../src/json-rpc/openrpc.markdown';
import { clientMethodsSource } from './support/client-methods.generator';
import { startTestApp, type TestApp } from './support/test-app';
import { backendName } from './support/test-database';

const API_DOCS = resolve(__dirname, '../docs/api.md');
const CLIENT_METHODS = resolve(__dirname, '../src/client/methods.generated.ts');

/**
 * docs/api.md and the client's method types are the OpenRPC document written
 * out; this fails when either is stale. `npm run docs` (UPDATE_DOCS=1) writes
 * them anew instead.
 */
describe(`The API reference and the client's types, from the document (${backendName})`, () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(() => t.close());

  it('is what the running service says of itself', () => {
    const sut = openRpcMarkdown(t.app.get(OpenRpcDocumentProvider).document);
    if (process.env.UPDATE_DOCS === '1') writeFileSync(API_DOCS, sut);
    expect(readFileSync(API_DOCS, 'utf8')).toBe(sut);
  });

  it("types the client's methods as the document describes them", async () => {
    const sut = await clientMethodsSource(t.app.get(OpenRpcDocumentProvider).document);
    if (process.env.UPDATE_DOCS === '1') writeFileSync(CLIENT_METHODS, sut);
    expect(readFileSync(CLIENT_METHODS, 'utf8')).toBe(sut);
  });
});
