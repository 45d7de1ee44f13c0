/**
 * `npm run dlq -- list <group>` / `npm run dlq -- replay <group>`: what a consumer group parked on its
 * dead-letter topic, and putting it back on the topics it came from once the cause is fixed
 * (docs/operations.md, EventsDeadLettered). Reads KAFKA_BROKERS and KAFKA_TOPIC_PREFIX (put in front of
 * the group, as the services do). Prints JSON: each message's origin, event type and id, error and
 * attempts — never its payload. Exits 0 when done, 1 when a replay left messages behind, 2 when it
 * cannot run.
 */
import { listDeadLetters, replayDeadLetters } from '@commerce/events';

const USAGE = 'usage: npm run dlq -- list <consumer group> | replay <consumer group>';

try {
  const [command, group] = process.argv.slice(2);
  if ((command !== 'list' && command !== 'replay') || !group) throw new Error(USAGE);
  const brokers = (process.env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set (host:port[,host:port...])');
  const groupId = `${process.env.KAFKA_TOPIC_PREFIX ?? ''}${group}`;
  if (command === 'list') {
    const parked = await listDeadLetters({ brokers, groupId, clientId: 'dlq-list' });
    process.stdout.write(`${JSON.stringify({ group: groupId, parked: parked.length, messages: parked }, null, 2)}\n`);
  } else {
    const outcome = await replayDeadLetters({ brokers, groupId, clientId: 'dlq-replay' });
    const summary = {
      group: groupId,
      replayedCount: outcome.replayed.length,
      skippedCount: outcome.skipped.length,
      replayed: outcome.replayed,
      skipped: outcome.skipped,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    process.exitCode = outcome.skipped.length > 0 ? 1 : 0;
  }
} catch (error) {
  process.stderr.write(`${JSON.stringify({ ok: false, error: (error as Error).message })}\n`);
  process.exitCode = 2;
}
