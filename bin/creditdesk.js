#!/usr/bin/env -S node --max-semi-space-size=64
// The package's command: runs the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/index.ts');
