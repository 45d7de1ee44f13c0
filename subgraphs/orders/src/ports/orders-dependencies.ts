import type { AddressBook } from './address-book.ts';
import type { CartRepository } from './cart-repository.ts';
import type { Clock } from './clock.ts';
import type { IdGenerator } from './id-generator.ts';
import type { OrderRepository } from './order-repository.ts';
import type { ProductCatalog } from './product-catalog.ts';
import type { UnitOfWork } from './unit-of-work.ts';

/** The ports the use cases depend on; the composition root (main.ts) wires adapters to them. */
export interface OrdersDependencies {
  unitOfWork: UnitOfWork;
  /** Reads outside a transaction. */
  orders: OrderRepository;
  carts: CartRepository;
  catalog: ProductCatalog;
  /** The buyer's addresses (users), asked at checkout for the shipping address snapshot. */
  addresses: AddressBook;
  clock: Clock;
  ids: IdGenerator;
}
