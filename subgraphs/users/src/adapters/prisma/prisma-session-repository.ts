import type { PrismaClient } from '../../generated/prisma/client.ts';
import type { SessionRevocationReason, StoredRefreshToken } from '../../domain/session.ts';
import type { NewRefreshToken, SessionRepository } from '../../ports/session-repository.ts';

export class PrismaSessionRepository implements SessionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async startFamily(family: { id: string; userId: string }, firstToken: NewRefreshToken): Promise<void> {
    await this.prisma.sessionFamily.create({
      data: { id: family.id, userId: family.userId, createdAt: firstToken.issuedAt, tokens: { create: firstToken } },
    });
  }

  async findByTokenHash(tokenHash: string): Promise<StoredRefreshToken | null> {
    const row = await this.prisma.refreshToken.findUnique({
      where: { tokenHash },
      include: { family: { select: { userId: true, revokedAt: true } } },
    });
    if (!row) return null;
    return {
      id: row.id,
      familyId: row.familyId,
      userId: row.family.userId,
      expiresAt: row.expiresAt,
      rotatedAt: row.rotatedAt,
      familyRevokedAt: row.family.revokedAt,
    };
  }

  async rotate(currentTokenId: string, familyId: string, next: NewRefreshToken): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      // The conditional update is the lock: of two concurrent rotations of one token only one matches a row.
      const { count } = await tx.refreshToken.updateMany({
        where: { id: currentTokenId, rotatedAt: null, family: { revokedAt: null } },
        data: { rotatedAt: next.issuedAt },
      });
      if (count !== 1) return false;
      await tx.refreshToken.create({ data: { ...next, familyId } });
      return true;
    });
  }

  async revokeFamily(familyId: string, reason: SessionRevocationReason): Promise<void> {
    await this.prisma.sessionFamily.updateMany({
      where: { id: familyId, revokedAt: null },
      data: { revokedAt: new Date(), revokedReason: reason },
    });
  }
}
