/**
 * An in-memory CatalogStore for use-case unit tests: the same port the Prisma adapter implements,
 * with all-or-nothing transactions (a failed unit of work leaves the state as it was). Locks are
 * not modelled; concurrency is proven on real PostgreSQL in the integration tests.
 */
import type { Category } from '../src/domain/category.ts';
import type { CatalogEvent } from '../src/domain/events.ts';
import type { Product } from '../src/domain/product.ts';
import type { Reservation, StockForReservation } from '../src/domain/reservation.ts';
import type { CatalogStore, CatalogTransaction, EventCause } from '../src/ports/catalog-store.ts';

interface State {
  products: Map<string, Product>;
  categories: Map<string, Category>;
  reservations: Map<string, Reservation>;
  adjustments: { productId: string; delta: number; reason: string; actorId: string | null; onHand: number }[];
  events: { event: CatalogEvent; cause?: EventCause }[];
}

export class InMemoryCatalogStore implements CatalogStore {
  state: State = { products: new Map(), categories: new Map(), reservations: new Map(), adjustments: [], events: [] };
  private clock = Date.UTC(2026, 0, 1);

  async transaction<T>(work: (tx: CatalogTransaction) => Promise<T>): Promise<T> {
    const draft = structuredClone(this.state);
    const result = await work(this.transactionOn(draft));
    this.state = draft; // commit only when the whole unit of work succeeded
    return result;
  }

  get events(): CatalogEvent[] {
    return this.state.events.map((entry) => entry.event);
  }

  addCategory(category: Partial<Category> & Pick<Category, 'id' | 'slug'>): Category {
    const full: Category = {
      name: category.slug,
      description: '',
      parentId: null,
      createdAt: this.now(),
      updatedAt: this.now(),
      ...category,
    };
    this.state.categories.set(full.id, full);
    return full;
  }

  addProduct(product: Partial<Product> & Pick<Product, 'id' | 'sku' | 'slug'>): Product {
    const full: Product = {
      name: product.slug,
      description: '',
      price: { amountCents: 1000, currency: 'USD' },
      images: [],
      attributes: [],
      categoryId: null,
      status: 'ACTIVE',
      version: 1,
      stock: { onHand: 0, reserved: 0 },
      createdAt: this.now(),
      updatedAt: this.now(),
      ...product,
    };
    this.state.products.set(full.id, full);
    return full;
  }

  private now(): Date {
    this.clock += 1000;
    return new Date(this.clock);
  }

  private transactionOn(state: State): CatalogTransaction {
    const now = () => this.now();
    return {
      products: {
        findById: async (id) => state.products.get(id) ?? null,
        findTaken: async (values, exceptProductId) => {
          const others = [...state.products.values()].filter((product) => product.id !== exceptProductId);
          return {
            sku: values.sku !== undefined && others.some((product) => product.sku === values.sku),
            slug: values.slug !== undefined && others.some((product) => product.slug === values.slug),
          };
        },
        insert: async ({ onHand, ...details }) => {
          const product: Product = {
            ...details,
            status: 'ACTIVE',
            version: 1,
            stock: { onHand, reserved: 0 },
            createdAt: now(),
            updatedAt: now(),
          };
          state.products.set(product.id, product);
          return product;
        },
        updateIfVersion: async (id, expectedVersion, changes) => {
          const current = state.products.get(id);
          if (!current || current.version !== expectedVersion) return null;
          const updated: Product = { ...current, ...changes, version: current.version + 1, updatedAt: now() };
          state.products.set(id, updated);
          return updated;
        },
      },
      categories: {
        findById: async (id) => state.categories.get(id) ?? null,
        findBySlug: async (slug) => [...state.categories.values()].find((category) => category.slug === slug) ?? null,
        ancestorIds: async (id) => {
          const ancestors: string[] = [];
          for (let parent = state.categories.get(id)?.parentId; parent; parent = state.categories.get(parent)?.parentId)
            ancestors.push(parent);
          return ancestors;
        },
        insert: async (details) => {
          const category: Category = { ...details, createdAt: now(), updatedAt: now() };
          state.categories.set(category.id, category);
          return category;
        },
        update: async (id, changes) => {
          const category: Category = { ...state.categories.get(id)!, ...changes, updatedAt: now() };
          state.categories.set(id, category);
          return category;
        },
      },
      stock: {
        lock: async (productIds) => {
          const locked = new Map<string, StockForReservation>();
          for (const id of productIds) {
            const product = state.products.get(id);
            if (product)
              locked.set(id, { productId: id, status: product.status, price: product.price, stock: { ...product.stock } });
          }
          return locked;
        },
        save: async (levels) => {
          for (const [id, level] of levels) {
            if (level.onHand < 0 || level.reserved < 0 || level.reserved > level.onHand)
              throw new Error(`CHECK violated for ${id}`);
            state.products.set(id, { ...state.products.get(id)!, stock: { ...level } });
          }
        },
        recordAdjustment: async (adjustment) => {
          state.adjustments.push(adjustment);
        },
      },
      reservations: {
        claim: async (orderId) => {
          const existing = state.reservations.get(orderId);
          if (existing) return existing;
          state.reservations.set(orderId, { orderId, status: 'RELEASED', lines: [], total: null, rejection: null });
          return 'claimed';
        },
        findForUpdate: async (orderId) => state.reservations.get(orderId) ?? null,
        save: async (reservation) => {
          state.reservations.set(reservation.orderId, structuredClone(reservation));
        },
      },
      publish: async (events, cause) => {
        state.events.push(...events.map((event) => ({ event, cause })));
      },
    };
  }
}
