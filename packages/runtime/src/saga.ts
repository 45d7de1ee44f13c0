// The order saga's consumers share this: one subscription per subscribing service (its own consumer
// group), typed handlers per event type, and domain errors that retrying cannot fix parked at once.
import { DomainError } from '@commerce/platform';
import { onEvents, PermanentEventError, type EventHandlers, type Subscription } from '@commerce/events';
import type { ServiceRuntime } from './runtime.ts';

/** Errors that say the event itself is wrong for this service: retrying cannot help, so it goes to the DLQ. */
const PERMANENT_CODES = new Set(['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN', 'UNAUTHENTICATED']);

export interface SagaSubscriptionOptions {
  /** The consumer group, also the inbox's consumer name (e.g. `catalog.saga`). */
  groupId: string;
  topics: string[];
  handlers: EventHandlers;
}

/** Subscribes the service's saga handlers on its bus; stop the subscription before disconnecting the database. */
export async function subscribeSaga(runtime: ServiceRuntime, options: SagaSubscriptionOptions): Promise<Subscription> {
  const logger = runtime.logger.child({ component: 'saga', group: options.groupId });
  const dispatch = onEvents(options.handlers);
  // Joining the group can take a session timeout after a crash; /ready says so meanwhile.
  const subscribing = runtime.bus.subscribe({
    groupId: options.groupId,
    topics: options.topics,
    // The saga acts on its handlers' types only: the others on its topics are passed over undecoded.
    types: Object.keys(options.handlers),
    maxAttempts: runtime.config.events.maxAttempts,
    service: runtime.name,
    handler: async (event, delivery) => {
      try {
        await dispatch(event, delivery);
      } catch (error) {
        if (error instanceof DomainError && PERMANENT_CODES.has(error.code)) {
          throw new PermanentEventError(`${event.type} ${event.id}: ${error.code} ${error.message}`, { cause: error });
        }
        logger.warn(
          { eventId: event.id, type: event.type, attempt: delivery.attempt, err: (error as Error).message },
          'saga step failed; retrying',
        );
        throw error;
      }
    },
  });
  return runtime.starting.track(`consumer group ${options.groupId}`, subscribing);
}
