// Child process for the crash test: consumes one topic with the real KafkaEventBus and the inbox, and
// is killed (SIGKILL, no cleanup) right after the database commit of a chosen event, before its offset
// commit. Run as: node --import tsx crash-consumer.ts (settings in the environment).
import { KafkaEventBus, processOnce } from '../../src/index.ts';
import { openTestDatabase } from './test-database.ts';

const { CRASH_BROKERS, CRASH_TOPIC, CRASH_GROUP, CRASH_DATABASE_URL, CRASH_ON_EVENT, CRASH_CONSUMER } = process.env;
if (!CRASH_BROKERS || !CRASH_TOPIC || !CRASH_GROUP || !CRASH_DATABASE_URL || !CRASH_ON_EVENT || !CRASH_CONSUMER) {
  throw new Error('crash-consumer: missing CRASH_* settings');
}

const db = await openTestDatabase({ kind: 'postgres', url: CRASH_DATABASE_URL });
const bus = new KafkaEventBus({
  brokers: CRASH_BROKERS.split(','),
  clientId: 'crash-consumer',
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 500,
});
await bus.subscribe({
  groupId: CRASH_GROUP,
  topics: [CRASH_TOPIC],
  handler: async (event) => {
    await processOnce(db.prisma, CRASH_CONSUMER, event, (tx) =>
      tx.$executeRawUnsafe(
        'INSERT INTO test_effects (consumer, event_id, note) VALUES ($1, $2::uuid, $3)',
        CRASH_CONSUMER,
        event.id,
        'first run',
      ),
    );
    process.stdout.write(`committed ${event.id}\n`);
    if (event.id === CRASH_ON_EVENT) process.kill(process.pid, 'SIGKILL'); // after the DB commit, before the offset commit
  },
});
process.stdout.write('subscribed\n');
