/**
 * A Kafka broker of this test file's own (ci/kafka/start.sh run from a copy of ci/kafka on other
 * ports), so it can be stopped and started without disturbing anyone else using the shared broker.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@commerce/runtime';

const run = promisify(execFile);

export class PrivateBroker {
  private readonly dir: string;

  constructor(
    readonly port: number,
    private readonly controllerPort = port + 1,
  ) {
    const source = path.join(REPO_ROOT, 'ci', 'kafka');
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'saga-kafka-'));
    for (const file of ['start.sh', 'stop.sh', 'topics.sh', 'pom.xml'])
      cpSync(path.join(source, file), path.join(this.dir, file));
    symlinkSync(path.join(source, 'lib'), path.join(this.dir, 'lib'));
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  private script(name: string, ...args: string[]) {
    return run('bash', [path.join(this.dir, name), ...args], {
      env: { ...process.env, KAFKA_PORT: String(this.port), KAFKA_CONTROLLER_PORT: String(this.controllerPort) },
      timeout: 120_000,
    });
  }

  /**
   * Starts (or restarts after `stop`) this broker. start.sh leaves alone whatever already answers on the port and
   * exits 0: here that would be another test's broker (two picked the same free port), whose topics and groups this
   * test would then share — its events showed up in the other stack as orders nobody knew. Refuse instead.
   */
  start = async () => {
    const { stdout } = await this.script('start.sh');
    if (/not started by this script/.test(stdout))
      throw new Error(`port ${this.port} already has a broker that is not this test's: pick another port`);
  };
  /** Stops the broker and keeps its data (topics, offsets): an outage, not a loss. */
  stop = () => this.script('stop.sh');

  async destroy(): Promise<void> {
    await this.script('stop.sh', '--clean').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
