/**
 * The catalog as orders sees it: can a shopper buy these products right now? Unknown and archived
 * products are not available. Orders keeps only product ids; everything else stays in the catalog.
 */
export interface ProductCatalog {
  /** The subset of `productIds` that exist and are not archived. */
  availableProductIds(productIds: readonly string[]): Promise<Set<string>>;
}
