import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServiceName = 'catalog' | 'users' | 'orders' | 'billing';

export const SERVICE_NAMES: readonly ServiceName[] = ['catalog', 'users', 'orders', 'billing'];

/** Default ports from the design brief; each is overridable with <SERVICE>_PORT. */
export const DEFAULT_PORTS: Record<ServiceName | 'gateway', number> = {
  gateway: 4000,
  catalog: 4001,
  users: 4002,
  orders: 4003,
  billing: 4004,
};

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const migrationsDir = (service: ServiceName) => path.join(REPO_ROOT, 'prisma', service, 'migrations');
