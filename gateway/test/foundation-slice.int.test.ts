import { describeWithServers } from '@commerce/testkit';
import { productsSliceSuite } from './foundation-slice.shared.ts';

describeWithServers(['TEST_DATABASE_URL'], 'products through the gateway (full mode: real PostgreSQL)', () =>
  productsSliceSuite('postgres'),
);
