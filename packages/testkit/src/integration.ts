/**
 * Integration suites run against real servers named by environment variables. Without them a suite
 * is skipped locally, but under CI=true a missing server is a failure: CI must really use them.
 */
export type IntegrationServer = 'TEST_DATABASE_URL' | 'TEST_REDIS_URL' | 'TEST_KAFKA_BROKERS';

export function describeWithServers(servers: IntegrationServer[], name: string, body: () => void): void {
  const missing = servers.filter((variable) => !process.env[variable]);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its real servers configured', () => {
        throw new Error(`CI=true but ${missing.join(', ')} is not set: this suite must run against real servers`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: set ${missing.join(', ')})`, body);
}
