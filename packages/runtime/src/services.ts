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

/**
 * Default management ports (`/health`, `/ready`, `/metrics`); each is overridable with
 * <SERVICE>_MANAGEMENT_PORT. A service whose public port is 0 (a free one, in tests) gets a free
 * management port too, unless one is set.
 */
export const DEFAULT_MANAGEMENT_PORTS: Record<ServiceName | 'gateway', number> = {
  gateway: 9400,
  catalog: 9401,
  users: 9402,
  orders: 9403,
  billing: 9404,
};

/** The management port a service listens on: the one set, else its default (0 when the public port is 0). */
export function managementPort(service: ServiceName | 'gateway', publicPort: number, configured: number | undefined): number {
  return configured ?? (publicPort === 0 ? 0 : DEFAULT_MANAGEMENT_PORTS[service]);
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const migrationsDir = (service: ServiceName) => path.join(REPO_ROOT, 'prisma', service, 'migrations');
