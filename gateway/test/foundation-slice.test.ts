import { productsSliceSuite } from './foundation-slice.shared.ts';

describe('products through the gateway (embedded: PGlite, in-process bus)', () => productsSliceSuite('pglite'));
