/**
 * Creates the first admin (or promotes an existing account) — the only way to an ADMIN role besides an
 * admin's `setUserRole`; the public API never creates one.
 *
 *   npm run create-admin -w @commerce/users -- --email ops@shop.example --name "Shop Ops"
 *
 * Needs only the users database (USERS_DATABASE_URL or DATABASE_URL; none for the embedded database under
 * .data/users — stop `npm start` first, PGlite allows one process per folder): it writes rows and mints no token,
 * so neither JWT keys nor Kafka are needed; the UserRegistered event waits in the outbox for the service's relay.
 * The password is never a command-line argument (it would show in `ps` and shell history): it is read from
 * ADMIN_PASSWORD, else from standard input (prompted without echo on a terminal, first line when piped).
 */
import { parseArgs } from 'node:util';
import type { Database } from '@commerce/database';
import { createLogger, DomainError } from '@commerce/platform';
import { openServiceDatabase, serviceDatabaseUrl } from '@commerce/runtime';
import { PrismaClient } from '../generated/prisma/client.ts';
import { createAdmin } from '../application/create-admin.ts';
import { createAccountDependencies } from '../wiring.ts';

export const USAGE = 'usage: create-admin --email <email> --name <display name>  (password from ADMIN_PASSWORD or stdin)';

export interface CreateAdminArguments {
  email: string;
  name: string;
}

export function parseCreateAdminArguments(argv: string[]): CreateAdminArguments {
  const { values } = parseArgs({ args: argv, options: { email: { type: 'string' }, name: { type: 'string' } } });
  if (!values.email || !values.name) throw new Error(USAGE);
  return { email: values.email, name: values.name };
}

/** Runs the command against the users database; returns the line to print. */
export async function runCreateAdmin(
  database: Database,
  args: CreateAdminArguments,
  password: () => Promise<string>,
): Promise<string> {
  const prisma = new PrismaClient({ adapter: database.adapter });
  try {
    const deps = createAccountDependencies(prisma);
    const { user, created } = await createAdmin(deps, { ...args, password });
    return created
      ? `created admin ${user.email} (${user.id})`
      : `${user.email} (${user.id}) is now an admin; password unchanged`;
  } finally {
    await prisma.$disconnect();
  }
}

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write('Password for the new admin (not shown): ');
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === '\r' || key === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(typed);
          return;
        }
        if (key === '\u0003') {
          stdin.setRawMode(false);
          reject(new Error('cancelled'));
          return;
        }
        typed = key === '\u007f' || key === '\b' ? typed.slice(0, -1) : typed + key;
      }
    };
    stdin.on('data', onData);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let database: Database | undefined;
  try {
    const args = parseCreateAdminArguments(process.argv.slice(2));
    const logger = createLogger({ service: 'users', level: 'warn' });
    database = await openServiceDatabase('users', serviceDatabaseUrl('users'), logger);
    console.log(await runCreateAdmin(database, args, readPassword));
  } catch (error) {
    console.error(error instanceof DomainError || error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  } finally {
    await database?.close();
  }
}
