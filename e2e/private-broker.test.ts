/**
 * A private broker never shares another test run's broker: start.sh leaves alone whatever already
 * answers on its port and reports success, so two fault runs on one port used to run two stacks on
 * one broker (same topics and groups), each consuming the other's events.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PrivateBroker } from './private-broker.ts';

describe('PrivateBroker', () => {
  it('refuses to start on a port something else already answers on', async () => {
    const other = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    const broker = new PrivateBroker(port);
    try {
      await expect(broker.start()).rejects.toThrow(`127.0.0.1:${port} is already in use`);
    } finally {
      await broker.destroy();
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
