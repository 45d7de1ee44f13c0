/** Catalog domain: pure types and rules, no framework imports. */
export type ProductStatus = 'ACTIVE' | 'ARCHIVED';

export interface Money {
  amountCents: number;
  currency: string;
}

export interface Product {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  price: Money;
  categoryId: string | null;
  status: ProductStatus;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export const isVisibleToShoppers = (product: Product) => product.status === 'ACTIVE';
