import type { DestinationStream } from 'pino';
import { createLogger } from '@commerce/platform';
import { createServiceRuntime, type ServiceRuntime } from '@commerce/runtime';
import { subgraphAccessHeaders, testJwtEnv } from '@commerce/testkit';
import { startService, type UsersService } from '../../src/main.ts';

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  body: { data?: Data | null; errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] };
}

export type GraphQLCall = <Data = Record<string, any>>( // eslint-disable-line @typescript-eslint/no-explicit-any
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
) => Promise<GraphQLResponse<Data>>;

/** Calls the users subgraph directly, as the gateway does (with a subgraph access token). */
export function graphqlClient(url: string): GraphQLCall {
  return async (query, variables = {}, headers = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...subgraphAccessHeaders('users'), ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as never };
  };
}

export interface UsersHarness {
  runtime: ServiceRuntime;
  service: UsersService;
  /** http://127.0.0.1:<port> */
  origin: string;
  gql: GraphQLCall;
  stop(): Promise<void>;
}

/** Just the users subgraph (no gateway) on a random port: for tests that talk to its HTTP endpoint directly. */
export async function startUsersService(
  options: { env?: Record<string, string>; logDestination?: DestinationStream; databaseUrl?: string } = {},
): Promise<UsersHarness> {
  const env = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    USERS_PORT: '0',
    USERS_DATABASE_URL: options.databaseUrl ?? 'pglite:memory',
    ...testJwtEnv(),
    ...options.env,
  };
  const logger = createLogger({
    service: 'users',
    level: options.logDestination ? 'trace' : 'silent',
    destination: options.logDestination,
  });
  const runtime = await createServiceRuntime('users', { env, logger });
  const service = await startService(runtime);
  return { runtime, service, origin: new URL(service.url).origin, gql: graphqlClient(service.url), stop: () => service.stop() };
}

export const REGISTER = /* GraphQL */ `
  mutation Register($email: String!, $password: String!, $name: String!) {
    register(email: $email, password: $password, name: $name) {
      accessToken
      refreshToken
      user {
        id
        email
        role
      }
    }
  }
`;

export const LOGIN = /* GraphQL */ `
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      accessToken
      refreshToken
      accessTokenExpiresAt
      refreshTokenExpiresAt
      user {
        id
        email
      }
    }
  }
`;

export const REFRESH = /* GraphQL */ `
  mutation Refresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      accessToken
      refreshToken
      user {
        id
        role
      }
    }
  }
`;

export const LOGOUT = /* GraphQL */ `
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`;

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string | null; role?: string | null };
}

let counter = 0;
/** A fresh email per call, so tests in one database never collide. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now().toString(36)}-${++counter}@example.com`;

export async function register(
  gql: GraphQLCall,
  email = uniqueEmail(),
  password = 'a perfectly fine passphrase',
  name = 'Test User',
): Promise<Session> {
  const response = await gql<{ register: Session }>(REGISTER, { email, password, name });
  if (!response.body.data?.register) throw new Error(`register failed: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.register;
}

export const auth = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

export function errorCode(response: GraphQLResponse): unknown {
  return response.body.errors?.[0]?.extensions?.code;
}
