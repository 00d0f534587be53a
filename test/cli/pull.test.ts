// `creditdesk pull` as an admin runs it: against a local HTTP server that answers as Figma's
// GET /v1/ai_usage/daily does, on an embedded database of its own. What it says, and its exit codes.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { listen } from '../../src/server.ts';
import { describeOnPostgres, openTestDatabase, urlOf } from '../helpers/db.ts';

let server: Server;
let figmaUrl = '';
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    asked.push(request.url ?? '');
    response.setHeader('content-type', 'application/json');
    if (request.headers['x-figma-token'] !== 'figd-good-token') {
      response.statusCode = 403;
      return response.end(JSON.stringify({ status: 403, error: true, message: 'Token is missing the scope org:ai_metering_usage_read' }));
    }
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.end(
      JSON.stringify({
        rows: [{ user_email: 'stranger@example.com', day: url.searchParams.get('end_date'), editor_type: 'design', seat_credits_sum: 12, plan_credits_sum: 0 }],
        next_cursor: null,
        has_next_page: false,
      }),
    );
  });
  figmaUrl = `http://127.0.0.1:${await listen(server, 0)}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Runs the command to its end without blocking this process (the fake Figma answers from it). */
function creditdesk(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

describe('creditdesk pull', () => {
  it('exits 2 naming what is wrong with its arguments or its configuration, before opening the database', async () => {
    // DATA_DIR names a file, not a folder: had the command opened the database, it would fail otherwise.
    const dataDir = join(mkdtempSync(join(tmpdir(), 'creditdesk-pull-')), 'a-file');
    writeFileSync(dataDir, '');
    const [badDay, noToken] = await Promise.all([
      creditdesk(['pull', 'figma', '--since', '2026-02-30'], { DATA_DIR: dataDir, FIGMA_TOKEN: 'figd-good-token' }),
      creditdesk(['pull', 'figma'], { DATA_DIR: dataDir }),
    ]);
    expect(badDay).toMatchObject({ status: 2, stderr: 'pull: --since takes a UTC day such as 2026-05-01, got 2026-02-30\n' });
    expect(noToken).toMatchObject({ status: 2, stderr: 'pull: FIGMA_TOKEN is not set: Figma needs a plan access token with the scope org:ai_metering_usage_read\n' });
  });
});

// An embedded database starts in seconds in a child process; PostgreSQL in a fraction of that.
describeOnPostgres('creditdesk pull on PostgreSQL', () => {
  let db: Database;
  let databaseUrl = '';
  beforeAll(async () => {
    db = await openTestDatabase('postgres');
    databaseUrl = await urlOf(db);
  });
  afterAll(async () => db?.close());

  it('exits 0 when the pull finished, listing the people creditdesk does not know, and 1 with the reason when Figma refuses the token', async () => {
    const env = { DATABASE_URL: databaseUrl, FIGMA_API_URL: figmaUrl };
    const [done, refused] = await Promise.all([
      creditdesk(['pull', 'figma', '--since', '2026-05-01'], { ...env, FIGMA_TOKEN: 'figd-good-token' }),
      creditdesk(['pull', 'figma'], { ...env, FIGMA_TOKEN: 'figd-revoked-token' }),
    ]);
    expect(done.stderr).toMatch(/^pull figma into default, 2026-05-01 to \d{4}-\d{2}-\d{2} \(UTC\): 2 rows read; 0 usage events recorded, 0 units; 0 rows with nothing new\n/);
    expect(done.stderr).toContain('1 person creditdesk does not know (no seat in the tool with that email or vendor login), not recorded:\n  stranger@example.com: 2 rows, 12 units\n');
    expect(JSON.parse(done.stdout)).toMatchObject({ connector: 'figma', status: 'ok', unknown: { count: 1 } });
    expect(done.status).toBe(0);
    expect(asked).toContainEqual(expect.stringMatching(/^\/v1\/ai_usage\/daily\?start_date=2026-05-01&end_date=\d{4}-\d{2}-\d{2}&limit=1000$/));

    expect(refused.stderr).toContain(
      'the pull stopped: Figma refused the token (HTTP 403: Token is missing the scope org:ai_metering_usage_read): set FIGMA_TOKEN to a plan access token',
    );
    expect(refused.stderr).not.toContain('figd-revoked-token');
    expect(refused.status).toBe(1);
  });
});
