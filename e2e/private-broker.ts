/**
 * A Kafka broker of this test file's own (ci/kafka/start.sh run from a copy of ci/kafka on other
 * ports), so it can be stopped and started without disturbing anyone else using the shared broker.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@commerce/runtime';

const run = promisify(execFile);

export class PrivateBroker {
  private readonly dir: string;
  /** Started by this object and not stopped since. */
  private running = false;

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
   * Starts the broker. start.sh leaves alone whatever already answers on the port and exits 0, so a
   * second test run on the same port would silently share the first one's broker — same topic and group
   * names, each consuming the other's events. Refused here instead, unless it is this broker itself.
   */
  start = async (): Promise<void> => {
    if (!this.running && (await portAnswers(this.port)))
      throw new Error(`127.0.0.1:${this.port} is already in use (another test run's broker?); pick another port`);
    await this.script('start.sh');
    this.running = true;
  };
  /** Stops the broker and keeps its data (topics, offsets): an outage, not a loss. */
  stop = async (): Promise<void> => {
    await this.script('stop.sh');
    this.running = false;
  };

  async destroy(): Promise<void> {
    await this.script('stop.sh', '--clean').catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
