import type { Admin, Kafka } from 'kafkajs';
import { fixKafkajsIdleLoop } from './kafkajs-idle-loop-fix.ts';

// Every kafkajs client of this process (this admin's included) needs it; see the module.
fixKafkajsIdleLoop();

/**
 * One kafkajs admin connection, opened on first use and shared by every caller after that. A failed
 * connect is forgotten, and `drop()` discards the connection after a failed call, so the next caller
 * reconnects instead of reusing a broken client.
 */
export class SharedKafkaAdmin {
  private admin: Promise<Admin> | undefined;

  constructor(private readonly kafka: Kafka) {}

  connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      const connecting = admin.connect().then(() => admin);
      this.admin = connecting;
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = undefined;
      });
    }
    return this.admin;
  }

  drop(): void {
    void this.close();
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => {});
  }
}
