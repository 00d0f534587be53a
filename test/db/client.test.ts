// The embedded database: its data folder is locked against a second process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openPglite } from '../../src/db/client.ts';

describe('PGlite data folder', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const newDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'creditdesk-db-'));
    dirs.push(dir);
    return dir;
  };

  it('refuses a second opener while the first holds the folder, naming the holder', async () => {
    const dir = newDir();
    const first = await openPglite(dir);
    // Another live process holds the lock: the parent of this test process.
    writeFileSync(join(dir, 'creditdesk.lock'), String(process.ppid));
    await expect(openPglite(dir)).rejects.toThrow(`the data folder ${dir} is in use by process ${process.ppid}`);
    await first.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const dir = newDir();
    writeFileSync(join(dir, 'creditdesk.lock'), '999999999');
    const db = await openPglite(dir);
    expect(await db.query<{ one: number }>('select 1 as one')).toEqual([{ one: 1 }]);
    await db.close();
  });
});
