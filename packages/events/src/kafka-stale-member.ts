/**
 * Removes a consumer-group member this process left behind when its kafkajs consumer crashed.
 *
 * Why: kafkajs 2.2.4 handles a lost broker by crashing the consumer and starting a new one, which joins
 * the group with a new member id. On the way it tries to leave the group, but the broker is gone, so the
 * LeaveGroup fails and the broker keeps the old member until its session expires — counted again from
 * when the coordinator reloads the group after a restart. The new member's rebalance waits for the old
 * one, so every group stood still for the whole session timeout (30 s) after the broker was back
 * (broker log: "Member … has failed, removing it"). Sending the LeaveGroup for the old member id
 * ourselves, as soon as the broker answers, ends that rebalance at once.
 *
 * kafkajs' Admin has no LeaveGroup; its Broker class does. The cluster is made through the Kafka
 * instance's private factory (found by its symbol's description; absent in another kafkajs version,
 * where this reports `unsupported` and the group falls back to the session expiry).
 */
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';

interface GroupCoordinator {
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
}

interface ClusterLike {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  findGroupCoordinator(request: { groupId: string }): Promise<GroupCoordinator>;
}

type CreateCluster = (options: Record<string, unknown>) => ClusterLike;

/** `left`: the broker removed it; `gone`: it was not (or no longer) a member; `unsupported`: see above. */
export type LeaveOutcome = 'left' | 'gone' | 'unsupported';

/** Errors that say the member is not in the group any more: nothing left to do. */
const GONE = new Set(['UNKNOWN_MEMBER_ID', 'GROUP_ID_NOT_FOUND']);

export class StaleMemberLeaver {
  private readonly kafka: Kafka;

  constructor(config: Pick<KafkaConfig, 'brokers' | 'clientId' | 'ssl' | 'sasl'>) {
    // One quick attempt per call (the caller repeats): while the broker is down, fail fast and quietly.
    this.kafka = new Kafka({
      ...config,
      connectionTimeout: 1000,
      requestTimeout: 5000,
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
  }

  /** One attempt at removing `memberId` from `groupId`; throws while the broker or coordinator is unavailable. */
  async leave(groupId: string, memberId: string): Promise<LeaveOutcome> {
    const createCluster = privateClusterFactory(this.kafka);
    if (!createCluster) return 'unsupported';
    const cluster = createCluster({});
    try {
      await cluster.connect();
      // The coordinator is looked up among the brokers in the metadata, which a new cluster has not read yet.
      await cluster.refreshMetadata();
      const coordinator = await cluster.findGroupCoordinator({ groupId });
      await coordinator.leaveGroup({ groupId, memberId });
      return 'left';
    } catch (error) {
      if (GONE.has((error as { type?: string }).type ?? '')) return 'gone';
      throw error;
    } finally {
      await cluster.disconnect().catch(() => {});
    }
  }
}

function privateClusterFactory(kafka: Kafka): CreateCluster | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find((candidate) => candidate.description === 'private:Kafka:createCluster');
  const factory = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  return typeof factory === 'function' ? (factory as CreateCluster) : undefined;
}
