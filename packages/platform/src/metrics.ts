import { Registry, collectDefaultMetrics, Histogram, Counter } from 'prom-client';

export { Registry, Histogram, Counter };
export { Gauge } from 'prom-client';

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  graphqlErrors: Counter<'code'>;
}

/** One registry per service, so embedded mode (all services in one process) keeps their series apart. */
export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const graphqlErrors = new Counter({
    name: 'graphql_errors_total',
    help: 'GraphQL errors returned, by extensions.code',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  return { registry, httpDuration, graphqlErrors };
}
