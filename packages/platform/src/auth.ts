/** Who is calling, as established from a verified token. Domain code sees only this. */
export type Role = 'CUSTOMER' | 'ADMIN';

export interface Viewer {
  userId: string;
  role: Role;
}

/**
 * Turns an `Authorization` header into a viewer. Returns null for anonymous requests and throws
 * a DomainError('UNAUTHENTICATED') for a token that is present but not valid — never a silent downgrade.
 */
export type Authenticator = (authorizationHeader: string | undefined) => Promise<Viewer | null>;

import { forbidden, unauthenticated } from './errors.ts';

export function requireViewer(viewer: Viewer | null): Viewer {
  if (!viewer) throw unauthenticated();
  return viewer;
}

export function requireAdmin(viewer: Viewer | null): Viewer {
  const known = requireViewer(viewer);
  if (known.role !== 'ADMIN') throw forbidden('This operation requires the ADMIN role');
  return known;
}

/** Owners see their own data; admins see everyone's. */
export function canAccessUserData(viewer: Viewer | null, ownerId: string): boolean {
  return !!viewer && (viewer.role === 'ADMIN' || viewer.userId === ownerId);
}
