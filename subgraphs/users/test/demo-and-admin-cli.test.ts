/** Embedded demo accounts and the create-admin command (the only way to a first admin). */
import { createLogger } from '@commerce/platform';
import { createServiceRuntime, type ServiceRuntime } from '@commerce/runtime';
import { testJwtEnv } from '@commerce/testkit';
import { PrismaClient } from '../src/generated/prisma/client.ts';
import { seedDemoData } from '../src/main.ts';
import { parseCreateAdminArguments, runCreateAdmin } from '../src/cli/create-admin.ts';
import { Argon2PasswordHasher } from '../src/adapters/security/argon2-password-hasher.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@commerce/database';

const baseEnv = { NODE_ENV: 'test', USERS_DATABASE_URL: 'pglite:memory', ...testJwtEnv() };
let runtime: ServiceRuntime;
let prisma: PrismaClient;

beforeAll(async () => {
  runtime = await createServiceRuntime('users', { env: baseEnv, logger: createLogger({ service: 'users', level: 'silent' }) });
  prisma = new PrismaClient({ adapter: runtime.database.adapter });
}, 60_000);

afterAll(async () => {
  await prisma?.$disconnect();
  await runtime?.close();
});

const hasher = new Argon2PasswordHasher();

describe('embedded demo accounts', () => {
  it('creates an admin and a customer with the credentials it prints, once', async () => {
    const lines = await seedDemoData(runtime);
    expect(lines).toEqual(['admin:     admin@demo.shop / open-sesame-42', 'customer:  customer@demo.shop / shop-till-you-drop']);
    for (const line of lines) {
      const [, email, password] = /(\S+@\S+) \/ (\S+)$/.exec(line)!;
      const user = await prisma.user.findUniqueOrThrow({ where: { email: email! } });
      expect(await hasher.verify(user.passwordHash, password!)).toBe(true);
      expect(user.role).toBe(email!.startsWith('admin') ? 'ADMIN' : 'CUSTOMER');
    }
    expect(await prisma.address.count({ where: { user: { email: 'customer@demo.shop' } } })).toBe(1);

    // A restart seeds nothing new but still prints the working credentials.
    expect(await seedDemoData(runtime)).toEqual(lines);
    expect(await prisma.user.count({ where: { email: { endsWith: '@demo.shop' } } })).toBe(2);
  });

  it('never creates default credentials in production', async () => {
    const production = { ...runtime, config: { ...runtime.config, production: true } };
    expect(await seedDemoData(production)).toEqual([]);
  });
});

describe('create-admin command', () => {
  it('requires --email and --name (the password never comes from arguments)', () => {
    expect(parseCreateAdminArguments(['--email', 'ops@shop.example', '--name', 'Ops'])).toEqual({
      email: 'ops@shop.example',
      name: 'Ops',
    });
    expect(() => parseCreateAdminArguments(['--email', 'ops@shop.example'])).toThrow(/usage/);
    expect(() => parseCreateAdminArguments(['--email', 'a@b.c', '--name', 'x', '--password', 'secret'])).toThrow();
  });

  it('creates an ADMIN account with a UserRegistered event', async () => {
    const message = await runCreateAdmin(
      runtime.database,
      { email: 'Ops@Shop.example', name: 'Shop Ops' },
      async () => 'a long admin passphrase',
    );
    expect(message).toMatch(/^created admin ops@shop\.example \(/);
    const admin = await prisma.user.findUniqueOrThrow({ where: { email: 'ops@shop.example' } });
    expect(admin.role).toBe('ADMIN');
    expect(await hasher.verify(admin.passwordHash, 'a long admin passphrase')).toBe(true);
    const event = await prisma.outboxEvent.findFirstOrThrow({ where: { aggregateId: admin.id } });
    expect(event.envelope).toMatchObject({ type: 'UserRegistered', payload: { role: 'ADMIN' } });
  });

  it('applies the password policy to new admins', async () => {
    await expect(
      runCreateAdmin(runtime.database, { email: 'weak@shop.example', name: 'Weak' }, async () => 'short'),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });

  it('promotes an existing account without asking for or changing its password', async () => {
    const customer = await prisma.user.findUniqueOrThrow({ where: { email: 'customer@demo.shop' } });
    const message = await runCreateAdmin(runtime.database, { email: 'customer@demo.shop', name: 'ignored' }, async () => {
      throw new Error('must not ask for a password');
    });
    expect(message).toMatch(/is now an admin; password unchanged/);
    const promoted = await prisma.user.findUniqueOrThrow({ where: { id: customer.id } });
    expect(promoted).toMatchObject({ role: 'ADMIN', passwordHash: customer.passwordHash });
  });
});

describe('create-admin as an operator runs it in production', () => {
  // It only writes rows: it must not need the broker (an unreachable one here), JWT keys or any service setting.
  it('creates the admin with nothing but the database configured, Kafka unreachable', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'create-admin-'));
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
    try {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'subgraphs/users/src/cli/create-admin.ts', '--email', 'root@shop.example', '--name', 'Root'],
        {
          cwd: root,
          encoding: 'utf8',
          timeout: 60_000,
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'production',
            USERS_DATABASE_URL: `pglite:${dir}`,
            KAFKA_BROKERS: '127.0.0.1:1',
            ADMIN_PASSWORD: 'a long admin passphrase',
          },
        },
      );
      expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
      expect(run.stdout).toMatch(/^created admin root@shop\.example \(/);
      const database = await openDatabase({ kind: 'pglite', dataDir: dir });
      const prisma = new PrismaClient({ adapter: database.adapter });
      try {
        expect(await prisma.user.findUniqueOrThrow({ where: { email: 'root@shop.example' } })).toMatchObject({ role: 'ADMIN' });
        expect(await prisma.outboxEvent.count()).toBe(1); // UserRegistered, for the service's relay to publish
      } finally {
        await prisma.$disconnect();
        await database.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
