/** `js-result-service/testing`: the service in-process, for supertest suites of applications that use it. */
export { createTestingApp, createToken, dataSourceOf, seedResults, type SeedResult, type TestingApp, type TestingAppOptions } from './testing.app';
export { IN_MEMORY_DATABASE, testingConfig } from './testing.config';
