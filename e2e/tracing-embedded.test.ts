/**
 * Tracing in embedded mode: every service in this process, one in-process bus, spans recorded in memory.
 * Each service still names itself on its spans (one tracer provider per service).
 */
import { jest } from '@jest/globals';
import { InMemorySpanExporter, installTestSpanExporter, shutdownTracing } from '@commerce/platform';
import { startTestStack, type TestStack } from '@commerce/testkit';
import { checkoutTraceTests } from './tracing-scenario.ts';

jest.setTimeout(60_000);

describe('tracing (embedded, in-process bus)', () => {
  const exporter = new InMemorySpanExporter();
  let stack: TestStack;
  beforeAll(async () => {
    installTestSpanExporter(exporter);
    stack = await startTestStack({ seed: true });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await shutdownTracing();
  });

  checkoutTraceTests(
    () => stack,
    () => exporter,
    'in-process',
  );
});
