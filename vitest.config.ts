import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Test files share one process: each in a new one imported the app again and started PGlite's
    // 9 MB WebAssembly cold (compiled and optimised anew), over half the suite's CPU time. Test
    // databases are handed from file to file emptied (test/helpers/db.ts), so no file sees another's rows.
    isolate: false,
    globalSetup: ['test/helpers/global-setup.ts'],
    // On a 2-core machine vitest runs one file at a time (cores - 1 workers). Two workers made
    // the suite slower there once the machine was busy, and every test two to three times slower.
    //
    // With a second copy of the suite running beside it, the slowest tests took 8 s (the ledger
    // property, verify's command line) and up to 15 s on a machine busier still; the slowest file's
    // hooks 3-5 s. Three times that, and a hang still fails fast. The service start-up tests
    // (test/main.test.ts) start processes and set their own, longer timeout.
    testTimeout: 45_000,
    hookTimeout: 30_000,
  },
});
