/**
 * A PostgreSQL cluster and a Redis server of one test file's own (temporary directory, own port), so
 * fault tests can stop and kill them without disturbing the shared servers on 5432 and 6379. Every
 * process is started and stopped by its PID or its data directory, never by name.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const PG_BIN = process.env.FAULTS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/**
 * initdb refuses to run as root: as root the cluster belongs to the `postgres` system user and its
 * tools run under that user (setpriv); otherwise as the current user.
 */
function asClusterOwner(command: string, args: string[]): [string, string[]] {
  if (os.userInfo().uid !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', command, ...args]];
}

export class PrivatePostgres {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'faults-pg-'));
  private readonly data = path.join(this.dir, 'data');

  constructor(readonly port: number) {}

  /** The admin URL (trust authentication on loopback, user postgres). */
  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private async tool(name: string, args: string[], timeout = 60_000) {
    const [command, argv] = asClusterOwner(path.join(PG_BIN, name), args);
    return run(command, argv, { timeout });
  }

  async init(): Promise<void> {
    if (os.userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: group } = await run('id', ['-g', 'postgres']);
      chownSync(this.dir, Number(stdout.trim()), Number(group.trim()));
    }
    await this.tool('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  }

  start(): Promise<unknown> {
    // fsync off: the test kills the server, not the machine, so the OS still holds every write.
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    return this.tool('pg_ctl', [
      '-D',
      this.data,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /**
   * `pg_ctl restart`: `fast` ends every backend with "terminating connection due to administrator command"
   * (as an operator's restart does); `immediate` as in a crash (the start recovers from WAL).
   */
  restart(mode: 'fast' | 'immediate'): Promise<unknown> {
    return this.tool('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.dir, 'server.log'),
      '-m',
      mode,
      '-w',
      '-t',
      '60',
      'restart',
    ]);
  }

  /** `pg_ctl stop -m immediate`: every backend ends at once, as in a crash; the next start recovers from WAL. */
  stopImmediately(): Promise<unknown> {
    return this.tool('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.tool('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class PrivateRedis {
  private readonly dir = mkdtempSync(path.join(os.tmpdir(), 'faults-redis-'));
  private process: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    this.process = child;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      try {
        const { stdout } = await run('redis-cli', ['-p', String(this.port), 'ping'], { timeout: 2000 });
        if (stdout.trim() === 'PONG') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`redis-server on ${this.port} did not answer`);
  }

  /** SIGKILL: the cache, rate-limit counters and APQ entries are gone (nothing is persisted). */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGSTOP (true) or SIGCONT (false): connections stay open but nothing answers, as with a hung server. */
  freeze(frozen: boolean): void {
    this.process?.kill(frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  async destroy(): Promise<void> {
    this.freeze(false);
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
