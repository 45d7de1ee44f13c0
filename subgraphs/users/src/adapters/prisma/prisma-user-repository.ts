import { appendToOutbox, TOPICS, type EventEnvelope } from '@commerce/events';
import { badInput, conflict } from '@commerce/platform';
import { Prisma, type PrismaClient, type User as UserRow } from '../../generated/prisma/client.ts';
import { isRole, type Role, type User } from '../../domain/user.ts';
import { isUuid } from './ids.ts';
import type { NewUser, UserFilter, UserPageQuery, UserRepository } from '../../ports/user-repository.ts';

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    // A role this version does not know is treated as the least privileged one.
    role: isRole(row.role) ? row.role : 'CUSTOMER',
    defaultAddressId: row.defaultAddressId,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

const isMissingRow = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';

function whereFilter(filter: UserFilter): Prisma.UserWhereInput {
  return {
    ...(filter.role ? { role: filter.role } : {}),
    ...(filter.search
      ? {
          OR: [
            { email: { contains: filter.search, mode: 'insensitive' } },
            { name: { contains: filter.search, mode: 'insensitive' } },
          ],
        }
      : {}),
  };
}

export class PrismaUserRepository implements UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async create(user: NewUser, events: EventEnvelope[]): Promise<User> {
    try {
      const row = await this.prisma.$transaction(async (tx) => {
        const created = await tx.user.create({ data: user });
        await appendToOutbox(tx, TOPICS.users, events);
        return created;
      });
      return toUser(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict('An account with this email already exists', { field: 'email' });
      throw error;
    }
  }

  async findById(id: string): Promise<User | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.user.findUnique({ where: { id } });
    return row ? toUser(row) : null;
  }

  async findByIds(ids: readonly string[]): Promise<User[]> {
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids.filter(isUuid) } } });
    return rows.map(toUser);
  }

  async findCredentialsByEmail(email: string): Promise<{ user: User; passwordHash: string } | null> {
    const row = await this.prisma.user.findUnique({ where: { email } });
    return row ? { user: toUser(row), passwordHash: row.passwordHash } : null;
  }

  async findPasswordHash(userId: string): Promise<string | null> {
    const row = await this.prisma.user.findUnique({ where: { id: userId }, select: { passwordHash: true } });
    return row?.passwordHash ?? null;
  }

  async updateName(userId: string, name: string): Promise<User> {
    return toUser(await this.prisma.user.update({ where: { id: userId }, data: { name } }));
  }

  async updatePasswordHash(userId: string, passwordHash: string): Promise<void> {
    await this.prisma.user.update({ where: { id: userId }, data: { passwordHash } });
  }

  async changePassword(userId: string, passwordHash: string): Promise<void> {
    await this.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: userId }, data: { passwordHash } });
      await tx.sessionFamily.updateMany({
        where: { userId, revokedAt: null },
        data: { revokedAt: new Date(), revokedReason: 'password_changed' },
      });
    });
  }

  async updateRole(userId: string, role: Role): Promise<User | null> {
    if (!isUuid(userId)) return null;
    try {
      return toUser(await this.prisma.user.update({ where: { id: userId }, data: { role } }));
    } catch (error) {
      if (isMissingRow(error)) return null;
      throw error;
    }
  }

  async list({ limit, after, filter }: UserPageQuery): Promise<User[]> {
    if (after && !isUuid(after.id)) throw badInput('after', 'after is not a valid cursor');
    const rows = await this.prisma.user.findMany({
      where: {
        ...whereFilter(filter),
        ...(after
          ? {
              AND: [
                {
                  OR: [
                    { createdAt: { lt: new Date(after.createdAt) } },
                    { createdAt: new Date(after.createdAt), id: { gt: after.id } },
                  ],
                },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map(toUser);
  }

  count(filter: UserFilter): Promise<number> {
    return this.prisma.user.count({ where: whereFilter(filter) });
  }
}
