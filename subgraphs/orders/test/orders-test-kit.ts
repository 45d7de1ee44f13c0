import { createServiceRuntime, type ServiceRuntime } from '@commerce/runtime';
import { testJwtEnv } from '@commerce/testkit';
import { DomainError, type Viewer } from '@commerce/platform';
import { PrismaClient } from '../src/generated/prisma/client.ts';
import { createOrdersDependencies } from '../src/main.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { OrdersDependencies } from '../src/ports/orders-dependencies.ts';
import type { ProductCatalog, ShoppableProduct } from '../src/ports/product-catalog.ts';
import type { AddressBook, Buyer } from '../src/ports/address-book.ts';
import type { ShippingAddress } from '../src/domain/shipping-address.ts';

/**
 * A clock the test moves by hand (idempotency keys expire after 24 h). Each reading is 1 ms after the
 * previous one, like real time between two requests, so "added first" and "newest" are well defined.
 */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-03-01T10:00:00.000Z')) {}
  now(): Date {
    const reading = new Date(this.current);
    this.advance(1);
    return reading;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/**
 * The catalog port answered from a list: for use-case tests that do not start the catalog service. Listed
 * products cost `priceCents` (default 1000 USD) and have `stock` units available (default 100).
 */
export class ListedCatalog implements ProductCatalog {
  readonly available = new Set<string>();
  readonly stock = new Map<string, number>();
  readonly priceCents = new Map<string, number>();
  calls = 0;
  async shoppableProducts(productIds: readonly string[]): Promise<Map<string, ShoppableProduct>> {
    this.calls += 1;
    const shoppable = new Map<string, ShoppableProduct>();
    for (const id of productIds.filter((candidate) => this.available.has(candidate))) {
      shoppable.set(id, {
        id,
        price: { amountCents: this.priceCents.get(id) ?? 1000, currency: 'USD' },
        available: this.stock.get(id) ?? 100,
      });
    }
    return shoppable;
  }
}

/** A plain address, as users would store it. */
export const addressNamed = (recipientName: string): ShippingAddress => ({
  label: 'Home',
  recipientName,
  line1: '1 Test Street',
  line2: null,
  city: 'Testville',
  region: null,
  postalCode: '12345',
  country: 'US',
  phone: null,
});

/**
 * The users address book answered from memory: for use-case tests that do not start users. Every buyer owns
 * the addresses `addr-…` (so ordinary tests need no set-up); `owned` adds named ones per user; `down` makes
 * it fail as an unreachable users service would.
 */
export class ListedAddressBook implements AddressBook {
  readonly owned = new Map<string, ShippingAddress>();
  down = false;
  calls = 0;
  add(userId: string, addressId: string, address: ShippingAddress): void {
    this.owned.set(`${userId}/${addressId}`, address);
  }
  async ownAddress(buyer: Buyer, addressId: string): Promise<ShippingAddress | null> {
    this.calls += 1;
    if (this.down) throw new DomainError('SERVICE_UNAVAILABLE', 'users is down');
    return this.owned.get(`${buyer.userId}/${addressId}`) ?? (addressId.startsWith('addr-') ? addressNamed(buyer.userId) : null);
  }
}

export interface OrdersTestDatabase {
  runtime: ServiceRuntime;
  prisma: PrismaClient;
  deps: OrdersDependencies;
  catalog: ListedCatalog;
  addresses: ListedAddressBook;
  clock: ManualClock;
  close(): Promise<void>;
}

/** The orders schema, migrated, on `databaseUrl` (pglite:memory or a real PostgreSQL test database). */
export async function openOrdersTestDatabase(databaseUrl: string): Promise<OrdersTestDatabase> {
  const runtime = await createServiceRuntime('orders', {
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', ORDERS_DATABASE_URL: databaseUrl, ...testJwtEnv() },
  });
  const prisma = new PrismaClient({ adapter: runtime.database.adapter });
  const catalog = new ListedCatalog();
  const clock = new ManualClock();
  const addresses = new ListedAddressBook();
  return {
    runtime,
    prisma,
    deps: createOrdersDependencies(prisma, catalog, addresses, clock),
    catalog,
    addresses,
    clock,
    async close() {
      await prisma.$disconnect();
      await runtime.close();
    },
  };
}

export const customer = (userId: string): Viewer => ({ userId, role: 'CUSTOMER' });
export const admin = (userId = 'admin-1'): Viewer => ({ userId, role: 'ADMIN' });

/** The code of the DomainError a promise rejects with (and the field it names, if any). */
export async function rejection(promise: Promise<unknown>): Promise<{ code: string; field?: unknown; message: string }> {
  try {
    await promise;
  } catch (error) {
    const { code, details, message } = error as { code?: string; details?: Record<string, unknown>; message: string };
    return { code: code ?? 'NOT_A_DOMAIN_ERROR', field: details?.field, message };
  }
  throw new Error('expected the promise to reject');
}
