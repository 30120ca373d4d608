/**
 * Nest 12 packages are ES modules, and some define their own top-level
 * `require` (createRequire(import.meta.url)). Once Jest compiles them to
 * CommonJS that name would shadow the module wrapper's `require`, so it is renamed.
 */
module.exports = () => ({
  visitor: {
    Program(path) {
      if (path.scope.hasOwnBinding('require')) path.scope.rename('require', '_esmRequire');
    },
  },
});
