/** Limits and formats of catalog input. The API edge validates against these before any use case runs. */
export const LIMITS = {
  skuMaxLength: 64,
  nameMaxLength: 200,
  slugMaxLength: 120,
  descriptionMaxLength: 10_000,
  maxPriceCents: 100_000_000,
  maxImages: 12,
  imageUrlMaxLength: 2048,
  imageAltMaxLength: 300,
  maxAttributes: 50,
  attributeNameMaxLength: 60,
  attributeValueMaxLength: 300,
  searchMaxLength: 200,
  reasonMaxLength: 500,
  maxStockDelta: 1_000_000,
  maxStockUnits: 10_000_000,
  maxReservationLines: 100,
  maxLineQuantity: 10_000,
  /** Ids other services send (order ids, product ids in order lines); the event contracts allow 200. */
  externalIdMaxLength: 200,
  categoryNameMaxLength: 100,
  categoryDescriptionMaxLength: 2000,
} as const;

/** Lower-case words of letters and digits joined by single dashes: `aurora-kettle-2`. */
export const SLUG_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Letters, digits and . _ - ; starts with a letter or digit. */
export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;
export const DEFAULT_CURRENCY = 'USD';
