import { appendToOutbox, OUTBOX_INSERT_COLUMNS, outboxRow, TOPICS, type EventEnvelope } from '@commerce/events';
import { afterCreatedAtCursor, type CreatedAtCursor } from '@commerce/platform';
import {
  Prisma,
  type PrismaClient,
  type Payment as PaymentRow,
  type Refund as RefundRow,
} from '../../generated/prisma/client.ts';
import type { LedgerEntry, NewLedgerEntry, StoredAndLedgerBalances } from '../../domain/ledger.ts';
import {
  statusAfterRefunds,
  type Payment,
  type PaymentFailure,
  type PaymentFailureCode,
  type RefundDecision,
} from '../../domain/payment.ts';
import type { Refund } from '../../domain/refund.ts';
import type { NewPayment, NewRefund, PaymentRepository, RefundReservation } from '../../ports/payment-repository.ts';
import type { PaymentMethodStanding } from '../../ports/payment-provider.ts';

type Transaction = Prisma.TransactionClient;

export function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    orderId: row.orderId,
    userId: row.userId,
    paymentMethodId: row.paymentMethodId,
    status: row.status,
    amount: { amountCents: row.amountCents, currency: row.currency },
    capturedCents: row.capturedCents,
    refundedCents: row.refundedCents,
    providerChargeId: row.providerChargeId,
    failure: row.failureCode ? { code: row.failureCode as PaymentFailureCode, message: row.failureMessage ?? '' } : null,
    attempts: row.attempts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    settledAt: row.settledAt,
  };
}

export function toRefund(row: RefundRow): Refund {
  return {
    id: row.id,
    paymentId: row.paymentId,
    amount: { amountCents: row.amountCents, currency: row.currency },
    reason: row.reason,
    idempotencyKey: row.idempotencyKey,
    requestedBy: row.requestedBy,
    status: row.status,
    providerRefundId: row.providerRefundId,
    failure: row.failureCode ? { code: row.failureCode, message: row.failureMessage ?? '' } : null,
    attempts: row.attempts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    settledAt: row.settledAt,
  };
}

const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';

/** Lock timestamps come from the database clock, so workers on different machines agree on expiry. */
const leaseUntil = (leaseMs: number) => Prisma.sql`now() + (${leaseMs}::int * interval '1 millisecond')`;

/** A payments row under the model's field names, for raw statements that return it (`RETURNING`). */
const PAYMENT_ROW = Prisma.sql`id::text AS id, order_id AS "orderId", user_id AS "userId",
  payment_method_id::text AS "paymentMethodId", status::text AS status, amount_cents AS "amountCents",
  currency::text AS currency, captured_cents AS "capturedCents", refunded_cents AS "refundedCents",
  provider_charge_id AS "providerChargeId", failure_code AS "failureCode", failure_message AS "failureMessage",
  attempts, locked_until AS "lockedUntil", created_at AS "createdAt", updated_at AS "updatedAt", settled_at AS "settledAt"`;

export class PrismaPaymentRepository implements PaymentRepository, PaymentMethodStanding {
  /** `outboxWritten` runs after a transaction that wrote outbox rows committed (wakes the relay). */
  constructor(
    private readonly prisma: PrismaClient,
    private readonly outboxWritten: () => void = () => {},
  ) {}

  /** Captured money stays recorded after refunds, so a refunded payment still shows that the card paid. */
  async hasCapturedPayment(paymentMethodId: string): Promise<boolean> {
    const row = await this.prisma.payment.findFirst({
      where: { paymentMethodId, capturedCents: { gt: 0 } },
      select: { id: true },
    });
    return row !== null;
  }

  async findById(id: string): Promise<Payment | null> {
    const row = await this.prisma.payment.findUnique({ where: { id } });
    return row ? toPayment(row) : null;
  }

  async findByIds(ids: readonly string[]): Promise<Payment[]> {
    return (await this.prisma.payment.findMany({ where: { id: { in: [...ids] } } })).map(toPayment);
  }

  async findByOrderId(orderId: string): Promise<Payment | null> {
    const row = await this.prisma.payment.findUnique({ where: { orderId } });
    return row ? toPayment(row) : null;
  }

  async findByOrderIds(orderIds: readonly string[]): Promise<Payment[]> {
    return (await this.prisma.payment.findMany({ where: { orderId: { in: [...orderIds] } } })).map(toPayment);
  }

  async createOrGet(payment: NewPayment): Promise<{ payment: Payment; created: boolean }> {
    // INSERT … ON CONFLICT DO NOTHING RETURNING: of any number of concurrent attempts, exactly one creates
    // the row (and gets it back in the same statement); the others read the one that won.
    const [created] = await this.prisma.payment.createManyAndReturn({
      data: [
        {
          id: payment.id,
          orderId: payment.orderId,
          userId: payment.userId,
          paymentMethodId: payment.paymentMethodId,
          amountCents: payment.amount.amountCents,
          currency: payment.amount.currency,
        },
      ],
      skipDuplicates: true,
    });
    if (created) return { payment: toPayment(created), created: true };
    const row = await this.prisma.payment.findUniqueOrThrow({ where: { orderId: payment.orderId } });
    return { payment: toPayment(row), created: false };
  }

  async claimForAttempt(paymentId: string, leaseMs: number): Promise<Payment | null> {
    // The conditional UPDATE of claimLease, returning the claimed row instead of reading it again.
    const [claimed] = await this.prisma.$queryRaw<PaymentRow[]>`
      UPDATE payments
         SET locked_until = ${leaseUntil(leaseMs)}, attempts = attempts + 1, updated_at = now()
       WHERE id = ${paymentId}::uuid AND status = 'PENDING' AND (locked_until IS NULL OR locked_until < now())
      RETURNING ${PAYMENT_ROW}`;
    return claimed ? toPayment(claimed) : null;
  }

  async markCaptured(
    paymentId: string,
    providerChargeId: string,
    entry: NewLedgerEntry,
    events: EventEnvelope[],
  ): Promise<Payment | null> {
    // One statement, atomic on its own: the capture, its ledger entry and its events are written together,
    // and the entry and events only if the payment was still PENDING (no transaction round trips).
    const outbox = events.map((envelope) => {
      const [id, topic, aggregateId, type, json] = outboxRow(TOPICS.billing, envelope);
      return Prisma.sql`(${id}::uuid, ${topic}, ${aggregateId}, ${type}, ${json}::jsonb)`;
    });
    const [row] = await this.prisma.$queryRaw<PaymentRow[]>`
      WITH captured AS (
        UPDATE payments
           SET status = 'CAPTURED', captured_cents = amount_cents, provider_charge_id = ${providerChargeId},
               locked_until = NULL, settled_at = now(), updated_at = now()
         WHERE id = ${paymentId}::uuid AND status = 'PENDING'
        RETURNING ${PAYMENT_ROW}
      ), ledger AS (
        INSERT INTO ledger_entries (id, entry_key, payment_id, refund_id, kind, amount_cents, currency, provider_reference)
        SELECT ${entry.id}::uuid, ${entry.entryKey}, ${entry.paymentId}::uuid, ${entry.refundId}::uuid,
               CAST(${entry.kind}::text AS "LedgerEntryKind"), ${entry.amountCents}::int, ${entry.currency},
               ${entry.providerReference}
         WHERE EXISTS (SELECT 1 FROM captured)
      )${
        outbox.length > 0
          ? Prisma.sql`, outbox AS (
        INSERT INTO outbox_events (${Prisma.raw(OUTBOX_INSERT_COLUMNS)})
        SELECT v.* FROM (VALUES ${Prisma.join(outbox)}) AS v(${Prisma.raw(OUTBOX_INSERT_COLUMNS)})
         WHERE EXISTS (SELECT 1 FROM captured)
      )`
          : Prisma.empty
      }
      SELECT * FROM captured`;
    const captured = row ? toPayment(row) : null;
    if (captured) this.outboxWritten();
    return captured;
  }

  async markFailed(paymentId: string, failure: PaymentFailure, events: EventEnvelope[]): Promise<Payment | null> {
    const failed = await this.prisma.$transaction(async (tx) => {
      const { count } = await tx.payment.updateMany({
        where: { id: paymentId, status: 'PENDING' },
        data: {
          status: 'FAILED',
          failureCode: failure.code,
          failureMessage: failure.message,
          lockedUntil: null,
          settledAt: new Date(),
        },
      });
      if (count !== 1) return null;
      await appendToOutbox(tx, TOPICS.billing, events);
      return toPayment(await tx.payment.findUniqueOrThrow({ where: { id: paymentId } }));
    });
    if (failed) this.outboxWritten();
    return failed;
  }

  async findRefundById(id: string): Promise<Refund | null> {
    const row = await this.prisma.refund.findUnique({ where: { id } });
    return row ? toRefund(row) : null;
  }

  async findRefundByKey(idempotencyKey: string): Promise<Refund | null> {
    const row = await this.prisma.refund.findUnique({ where: { idempotencyKey } });
    return row ? toRefund(row) : null;
  }

  async listRefunds(paymentId: string, { limit, after }: { limit: number; after: CreatedAtCursor | null }): Promise<Refund[]> {
    const rows = await this.prisma.refund.findMany({
      where: { paymentId, ...afterCreatedAtCursor(after, 'asc') },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map(toRefund);
  }

  countRefunds(paymentId: string): Promise<number> {
    return this.prisma.refund.count({ where: { paymentId } });
  }

  async reserveRefund(
    refund: NewRefund,
    leaseMs: number,
    decide: (payment: Payment, reservedCents: number) => RefundDecision,
  ): Promise<RefundReservation> {
    try {
      return await this.prisma.$transaction(async (tx): Promise<RefundReservation> => {
        // The row lock serializes every refund of this payment: each one sees the others' reservations.
        const locked = await tx.$queryRaw<
          { id: string }[]
        >`SELECT id FROM payments WHERE id = ${refund.paymentId}::uuid FOR UPDATE`;
        if (locked.length === 0) return { kind: 'payment_not_found' };
        const earlier = await tx.refund.findUnique({ where: { idempotencyKey: refund.idempotencyKey } });
        if (earlier) return { kind: 'duplicate', refund: toRefund(earlier) };
        const payment = toPayment(await tx.payment.findUniqueOrThrow({ where: { id: refund.paymentId } }));
        const inFlight = await tx.refund.aggregate({
          where: { paymentId: refund.paymentId, status: 'PENDING' },
          _sum: { amountCents: true },
        });
        const decision = decide(payment, inFlight._sum.amountCents ?? 0);
        if (!decision.allowed) return { kind: 'rejected', decision };
        await tx.refund.create({
          data: {
            id: refund.id,
            paymentId: refund.paymentId,
            amountCents: decision.amountCents,
            currency: payment.amount.currency,
            reason: refund.reason,
            idempotencyKey: refund.idempotencyKey,
            requestedBy: refund.requestedBy,
            attempts: 1,
          },
        });
        await tx.$executeRaw`UPDATE refunds SET locked_until = ${leaseUntil(leaseMs)} WHERE id = ${refund.id}::uuid`;
        return { kind: 'reserved', refund: toRefund(await tx.refund.findUniqueOrThrow({ where: { id: refund.id } })) };
      });
    } catch (error) {
      // The same key used concurrently on another payment: the unique index decided, report that refund.
      if (!isUniqueViolation(error)) throw error;
      const existing = await this.findRefundByKey(refund.idempotencyKey);
      if (!existing) throw error;
      return { kind: 'duplicate', refund: existing };
    }
  }

  async claimRefundForAttempt(refundId: string, leaseMs: number): Promise<Refund | null> {
    return (await this.claimLease('refunds', refundId, leaseMs)) ? this.findRefundById(refundId) : null;
  }

  async releaseRefundClaim(refundId: string): Promise<void> {
    await this.prisma.refund.updateMany({ where: { id: refundId, status: 'PENDING' }, data: { lockedUntil: null } });
  }

  async completeRefund(
    refundId: string,
    providerRefundId: string,
    entry: NewLedgerEntry,
    events: (payment: Payment, refund: Refund) => EventEnvelope[],
  ): Promise<{ refund: Refund; payment: Payment } | null> {
    const completed = await this.prisma.$transaction(async (tx) => {
      const pending = await tx.refund.findUnique({ where: { id: refundId } });
      if (!pending || pending.status !== 'PENDING') return null;
      await tx.$queryRaw`SELECT id FROM payments WHERE id = ${pending.paymentId}::uuid FOR UPDATE`;
      const { count } = await tx.refund.updateMany({
        where: { id: refundId, status: 'PENDING' },
        data: { status: 'SUCCEEDED', providerRefundId, lockedUntil: null, settledAt: new Date() },
      });
      if (count !== 1) return null;
      const before = await tx.payment.findUniqueOrThrow({ where: { id: pending.paymentId } });
      const refundedCents = before.refundedCents + pending.amountCents;
      // The CHECK constraint (refunded ≤ captured) backs up the reservation made under the same lock.
      const paymentRow = await tx.payment.update({
        where: { id: before.id },
        data: { refundedCents, status: statusAfterRefunds(before.capturedCents, refundedCents) },
      });
      await this.appendLedger(tx, entry);
      const refund = toRefund(await tx.refund.findUniqueOrThrow({ where: { id: refundId } }));
      const payment = toPayment(paymentRow);
      await appendToOutbox(tx, TOPICS.billing, events(payment, refund));
      return { refund, payment };
    });
    if (completed) this.outboxWritten();
    return completed;
  }

  async failRefund(refundId: string, failure: { code: string; message: string }): Promise<Refund | null> {
    const { count } = await this.prisma.refund.updateMany({
      where: { id: refundId, status: 'PENDING' },
      data: {
        status: 'FAILED',
        failureCode: failure.code,
        failureMessage: failure.message,
        lockedUntil: null,
        settledAt: new Date(),
      },
    });
    return count === 1 ? this.findRefundById(refundId) : null;
  }

  async ledgerEntries(paymentId: string): Promise<LedgerEntry[]> {
    const rows = await this.prisma.ledgerEntry.findMany({ where: { paymentId }, orderBy: { sequence: 'asc' } });
    return rows.map((row) => ({
      id: row.id,
      entryKey: row.entryKey,
      paymentId: row.paymentId,
      refundId: row.refundId,
      kind: row.kind,
      amountCents: row.amountCents,
      currency: row.currency,
      providerReference: row.providerReference,
      createdAt: row.createdAt,
    }));
  }

  async balancesPage(afterId: string | null, limit: number): Promise<StoredAndLedgerBalances[]> {
    const rows = await this.prisma.$queryRaw<
      {
        id: string;
        status: Payment['status'];
        captured: number;
        refunded: number;
        ledger_captured: number;
        ledger_refunded: number;
      }[]
    >`
      SELECT p.id::text AS id, p.status::text AS status, p.captured_cents AS captured, p.refunded_cents AS refunded,
             COALESCE(SUM(l.amount_cents) FILTER (WHERE l.kind = 'CHARGE'), 0)::int AS ledger_captured,
             COALESCE(-SUM(l.amount_cents) FILTER (WHERE l.kind = 'REFUND'), 0)::int AS ledger_refunded
        FROM payments p
        LEFT JOIN ledger_entries l ON l.payment_id = p.id
       WHERE p.id > ${afterId ?? '00000000-0000-0000-0000-000000000000'}::uuid
       GROUP BY p.id
       ORDER BY p.id
       LIMIT ${limit}::int`;
    return rows.map((row) => ({
      paymentId: row.id,
      status: row.status,
      stored: { capturedCents: Number(row.captured), refundedCents: Number(row.refunded) },
      ledger: { capturedCents: Number(row.ledger_captured), refundedCents: Number(row.ledger_refunded) },
    }));
  }

  /** A conditional UPDATE: of any number of concurrent claimers, one gets a free (or expired) lease. */
  private async claimLease(table: 'payments' | 'refunds', id: string, leaseMs: number): Promise<boolean> {
    const claimed = await this.prisma.$executeRaw`
      UPDATE ${Prisma.raw(table)}
         SET locked_until = ${leaseUntil(leaseMs)}, attempts = attempts + 1, updated_at = now()
       WHERE id = ${id}::uuid AND status = 'PENDING' AND (locked_until IS NULL OR locked_until < now())`;
    return claimed === 1;
  }

  private async appendLedger(tx: Transaction, entry: NewLedgerEntry): Promise<void> {
    await tx.ledgerEntry.create({
      data: {
        id: entry.id,
        entryKey: entry.entryKey,
        paymentId: entry.paymentId,
        refundId: entry.refundId,
        kind: entry.kind,
        amountCents: entry.amountCents,
        currency: entry.currency,
        providerReference: entry.providerReference,
      },
    });
  }
}
