#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (built by `npm ci` / `npm run build`).
import { main } from '../dist/cli/main.js';

process.exit(await main(process.argv.slice(2)));
