/**
 * `js-result-service`: the service as a Nest module for an application of its
 * own. Importing it starts nothing; the standalone server is `dist/src/main.js`
 * (`npm start`). The typed client is `js-result-service/client`, the testing
 * helpers `js-result-service/testing`.
 */
export { JsResultServiceModule, type JsResultServiceAsyncOptions } from './js-result-service.module';
export type { JsResultServiceOptions } from './config/service.options';
export { ConfigError } from './config/app.config';
export { JSR_DATA_SOURCE } from './database/data-source.name';
export { TokenService } from './token/token.service';
