#!/usr/bin/env node
'use strict';
// The server (`js-result-service`, `js-result-service serve`) and every operator command, from the compiled code only.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const cli = join(__dirname, '..', 'dist', 'src', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`js-result-service: ${cli} is missing; run \`npm run build\` first\n`);
  process.exit(1);
}
require(cli);
