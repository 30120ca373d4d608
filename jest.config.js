/**
 * Unit specs live beside the code; e2e specs under test/. One config runs both.
 *
 * Nest 12 ships as ES modules. The app itself is CommonJS and loads them
 * through Node's require(esm), which Jest's module registry does not offer on
 * Node 20, so Jest compiles those packages to CommonJS as it loads them.
 */
const ESM_ONLY_PACKAGES = ['@nestjs'];

const esmToCommonJs = {
  babelrc: false,
  configFile: false,
  plugins: [
    require.resolve('./test/support/rename-esm-require.js'),
    'babel-plugin-transform-import-meta',
    // Without it `import(name)` stays native and loads a second, ESM copy of the package.
    '@babel/plugin-transform-dynamic-import',
    '@babel/plugin-transform-modules-commonjs',
  ],
};

module.exports = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testRegex: '(src/.*\\.spec\\.ts|test/.*\\.e2e-spec\\.ts)$',
  transform: {
    '^.+\\.ts$': ['ts-jest', {}],
    '^.+\\.js$': ['babel-jest', esmToCommonJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
};
