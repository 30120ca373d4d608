/**
 * Nest 12 ships as ES modules; Node loads them from CommonJS (require(esm)), Jest's
 * module registry does not, so Jest compiles them to CommonJS as it loads them.
 */
module.exports = {
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  // Not `*.e2e-spec.ts`: the repository's own Jest, one directory up, would take it for one of its suites.
  testRegex: 'test/.*\\.test\\.ts$',
  transform: {
    '^.+\\.ts$': ['ts-jest', {}],
    '^.+\\.js$': [
      'babel-jest',
      {
        babelrc: false,
        configFile: false,
        plugins: [
          require.resolve('./rename-esm-require.js'),
          'babel-plugin-transform-import-meta',
          '@babel/plugin-transform-dynamic-import',
          '@babel/plugin-transform-modules-commonjs',
        ],
      },
    ],
  },
  // Nest's packages wherever they are installed, the service's own dependencies included.
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|js-result-service/node_modules/@nestjs)/)'],
  testTimeout: 60000,
};
