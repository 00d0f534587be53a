// A wrong argument is exit 2, "nothing was done", for every command: never exit 1, which an
// import uses for "some rows failed, the good rows are applied".
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const creditdesk = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    // No database is named: a wrong argument must be refused before one is opened.
    env: { PATH: process.env.PATH, DATA_DIR: 'test-data-that-must-not-be-created' },
    encoding: 'utf8',
  });

describe('the command line with a wrong argument', () => {
  it("exits 2 naming an option the command does not know, or one left without its value, as the option parser finds them", () => {
    const unknown = creditdesk('import-usage', '--bogus', 'usage.csv');
    expect(unknown.stderr).toBe("import-usage: Unknown option '--bogus'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--bogus\"; see creditdesk help\n");
    expect(unknown.status).toBe(2);
    const valueless = creditdesk('pull', 'github', '--since');
    expect(valueless.stderr).toBe("pull: Option '--since <value>' argument missing; see creditdesk help\n");
    expect(valueless.status).toBe(2);
  });

  it('exits 2 naming each bench flag at fault, and takes no number written as 1e3', () => {
    const run = creditdesk('bench', '--seats', '1e3', '--alerts', 'x');
    expect(run.stderr).toBe('bench: --seats must be a whole number of at least 10; --alerts must be a whole number, 0 or more\n');
    expect(run.status).toBe(2);
  });
});
