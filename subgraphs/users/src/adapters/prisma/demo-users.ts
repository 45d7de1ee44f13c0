import type { UsersDependencies } from '../../application/dependencies.ts';
import { createAccount } from '../../application/create-account.ts';
import type { Role } from '../../domain/user.ts';

/**
 * Embedded mode's demo accounts (never created in production or on a real PostgreSQL). Fixed ids, so
 * other services' demo data and tests can refer to them.
 */
export const DEMO_ACCOUNTS: { id: string; role: Role; email: string; password: string; name: string }[] = [
  {
    id: 'a0000000-0000-4000-8000-000000000001',
    role: 'ADMIN',
    email: 'admin@demo.shop',
    password: 'open-sesame-42',
    name: 'Demo Admin',
  },
  {
    id: 'c0000000-0000-4000-8000-000000000001',
    role: 'CUSTOMER',
    email: 'customer@demo.shop',
    password: 'shop-till-you-drop',
    name: 'Demo Customer',
  },
];

const DEMO_ADDRESS = {
  label: 'Home',
  recipientName: 'Demo Customer',
  line1: '1 Market Street',
  line2: null,
  city: 'Springfield',
  region: null,
  postalCode: '12345',
  country: 'US',
  phone: null,
};

/** Creates the missing demo accounts; returns the lines `npm start` prints (only credentials that still work). */
export async function seedDemoUsers(deps: UsersDependencies): Promise<string[]> {
  const lines: string[] = [];
  for (const account of DEMO_ACCOUNTS) {
    let credentials = await deps.users.findCredentialsByEmail(account.email);
    if (!credentials) {
      await createAccount(deps, account);
      if (account.role === 'CUSTOMER') {
        await deps.addresses.add({ ...DEMO_ADDRESS, id: account.id.replace(/^c/, 'd'), userId: account.id }, true);
      }
      credentials = await deps.users.findCredentialsByEmail(account.email);
    }
    const label = `${account.role === 'ADMIN' ? 'admin' : 'customer'}:`.padEnd(10);
    const stillValid = credentials && (await deps.hasher.verify(credentials.passwordHash, account.password));
    lines.push(
      stillValid
        ? `${label} ${account.email} / ${account.password}`
        : `${label} ${account.email} (password changed since seeding)`,
    );
  }
  return lines;
}
