import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // Test files share one process: each in a new one imported the app again and started PGlite's
    // 9 MB WebAssembly cold (compiled and optimised anew), over half the suite's CPU time. Test
    // databases are handed from file to file emptied (test/helpers/db.ts), so no file sees another's rows.
    isolate: false,
    // PostgreSQL's migrated template database, made once per run, and dropping the run's databases.
    globalSetup: ['test/helpers/global-setup.ts'],
    // On a 2-core machine vitest runs one file at a time (cores - 1 workers). A second worker helped
    // the suite when it ran alone, but with a second copy of the suite beside it every test took two
    // to three times as long and the ledger property ran past its 45 s: one worker keeps every test
    // far inside its timeout when the machine is busy.
    //
    // With a second copy of the suite running beside it, the slowest tests took 14-18 s (the ledger
    // property on PostgreSQL: most of that is PostgreSQL compiling one of verify's queries with LLVM,
    // 0.3-0.5 s a call), then up to 7.5 s (the pull, report and verify command lines); the slowest
    // file's hooks 2 s. Two and a half times that, and a hang still fails fast. The service start-up
    // tests (test/main.test.ts) start processes and set their own, longer timeout; the slowest took 16 s.
    testTimeout: 45_000,
    hookTimeout: 30_000,
  },
});
