import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID, randomBytes } from 'node:crypto';

/** Per-request identifiers that every log line of the request carries. */
export interface RequestContext {
  requestId: string;
  traceId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

const TRACEPARENT = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** Reads ids from incoming headers (trusted only as correlation ids, never for authorization). */
export function requestContextFromHeaders(headers: Record<string, string | string[] | undefined>): RequestContext {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const requestId = header('x-request-id');
  const traceparent = header('traceparent');
  const traceId = traceparent ? TRACEPARENT.exec(traceparent)?.[1] : undefined;
  return {
    requestId: requestId && /^[\w.:-]{1,128}$/.test(requestId) ? requestId : randomUUID(),
    traceId: traceId ?? randomBytes(16).toString('hex'),
  };
}
