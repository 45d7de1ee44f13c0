// The CLI end to end on a temporary repo root, with the default embedded PGlite at <root>/.data/<service>.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from './cli.ts';

const SCHEMA = `datasource db {
  provider = "postgresql"
}

model Widget {
  id   Int    @id
  name String
}
`;

describe('cli', () => {
  let root: string;
  let out: string[];
  let err: string[];
  const run = (...argv: string[]) => {
    out = [];
    err = [];
    return runCli(argv, { root, env: {}, out: (line) => out.push(line), err: (line) => err.push(line) });
  };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'commerce-cli-'));
    await mkdir(path.join(root, 'prisma', 'catalog'), { recursive: true });
    await writeFile(path.join(root, 'prisma', 'catalog', 'schema.prisma'), SCHEMA);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('rejects bad usage with exit code 2', async () => {
    expect(await run('migrate')).toBe(2);
    expect(await run('deploy', '--service', 'nope')).toBe(2);
    expect(await run('create', '--service', 'catalog')).toBe(2);
    expect(err[0]).toBe('create needs --name <migration-name>');
  });

  it('creates, deploys and reports migrations; a failed migration is one line and exit code 1', async () => {
    expect(await run('create', '--service', 'catalog', '--name', 'init')).toBe(0);
    expect(out).toEqual([expect.stringMatching(/^catalog: created prisma\/catalog\/migrations\/\d{14}_init$/)]);
    const [init] = (await readdir(path.join(root, 'prisma', 'catalog', 'migrations'))).filter((f) => /^\d/.test(f));

    expect(await run('create', '--service', 'catalog', '--name', 'again')).toBe(0);
    expect(out).toEqual(['catalog: schema unchanged, no migration created']);

    expect(await run('status', '--service', 'catalog')).toBe(1); // pending, like `prisma migrate status`
    expect(out).toEqual(['catalog: 0 applied, 1 pending, 0 failed (pglite .data/catalog)', `catalog: pending ${init}`]);

    expect(await run('deploy')).toBe(0); // --service all: the other services have no schema here
    expect(out).toEqual([
      `catalog: applied ${init}`,
      'users: skipped (no prisma/users/schema.prisma)',
      'orders: skipped (no prisma/orders/schema.prisma)',
      'billing: skipped (no prisma/billing/schema.prisma)',
    ]);

    expect(await run('deploy', '--service', 'catalog')).toBe(0);
    expect(out).toEqual(['catalog: up to date (pglite .data/catalog)']);

    const broken = '29990101000000_broken';
    await mkdir(path.join(root, 'prisma', 'catalog', 'migrations', broken));
    await writeFile(
      path.join(root, 'prisma', 'catalog', 'migrations', broken, 'migration.sql'),
      'INSERT INTO missing VALUES (1);\n',
    );
    expect(await run('deploy', '--service', 'catalog')).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([`catalog: migration ${broken} failed: relation "missing" does not exist`]);

    expect(await run('status', '--service', 'catalog')).toBe(1);
    expect(out).toEqual(['catalog: 1 applied, 0 pending, 1 failed (pglite .data/catalog)', `catalog: failed ${broken}`]);

    expect(await run('deploy', '--service', 'catalog')).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(new RegExp(`^catalog: migration ${broken} failed earlier and blocks deploy`));
  }, 180_000); // several PGlite boots
});
