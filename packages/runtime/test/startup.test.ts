// /ready says what a service is still starting in the background (consumer groups joining) while it
// already serves: after a SIGKILL restart a group may wait a whole session for the dead member.
import request from 'supertest';
import { createLogger, createServiceMetrics, startManagementServer } from '@commerce/platform';
import { BackgroundStarts } from '../src/startup.ts';

describe('background starts', () => {
  it('lists what is still starting until it settles, resolved or rejected', async () => {
    const starts = new BackgroundStarts();
    let join!: () => void;
    let fail!: (error: Error) => void;
    const joining = starts.track('consumer group orders.saga', new Promise<void>((resolve) => (join = resolve)));
    const failing = starts.track('consumer group other', new Promise<void>((_resolve, reject) => (fail = reject)));
    expect(starts.list()).toEqual(['consumer group orders.saga', 'consumer group other']);
    fail(new Error('broker unreachable'));
    await expect(failing).rejects.toThrow('broker unreachable');
    expect(starts.list()).toEqual(['consumer group orders.saga']);
    join();
    await joining;
    expect(starts.list()).toEqual([]);
  });

  it('shows on /ready, which answers 200 meanwhile', async () => {
    const starts = new BackgroundStarts();
    let join!: () => void;
    const joining = starts.track('consumer group orders.saga', new Promise<void>((resolve) => (join = resolve)));
    const management = await startManagementServer({
      logger: createLogger({ service: 'test', level: 'silent' }),
      metrics: createServiceMetrics('test'),
      ready: async () => ({ ready: true, starting: starts.list() }),
      port: 0,
      host: '127.0.0.1',
    });
    try {
      await request(management.url)
        .get('/ready')
        .expect(200, { status: 'ready', starting: ['consumer group orders.saga'] });
      join();
      await joining;
      await request(management.url).get('/ready').expect(200, { status: 'ready', starting: [] });
    } finally {
      await management.close();
    }
  });
});
