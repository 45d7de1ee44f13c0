import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../generated/prisma/client.ts';

/** Stable ids so the demo catalog is the same on every machine (links and tests can rely on them). */
export function demoId(name: string): string {
  const hex = createHash('sha1').update(`commerce-graph-demo:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const CATEGORY_TREE: { slug: string; name: string; children: { slug: string; name: string; nouns: string[]; basePrice: number }[] }[] = [
  {
    slug: 'electronics',
    name: 'Electronics',
    children: [
      { slug: 'headphones', name: 'Headphones', nouns: ['Headphones', 'Earbuds', 'Headset'], basePrice: 4900 },
      { slug: 'keyboards', name: 'Keyboards', nouns: ['Keyboard', 'Keypad', 'Macro Pad'], basePrice: 3900 },
      { slug: 'cameras', name: 'Cameras', nouns: ['Camera', 'Action Cam', 'Webcam'], basePrice: 8900 },
    ],
  },
  {
    slug: 'home',
    name: 'Home & Kitchen',
    children: [
      { slug: 'kitchen', name: 'Kitchen', nouns: ['Kettle', 'Chef Knife', 'Skillet', 'French Press'], basePrice: 2500 },
      { slug: 'lighting', name: 'Lighting', nouns: ['Desk Lamp', 'Floor Lamp', 'Pendant Light'], basePrice: 3500 },
    ],
  },
  {
    slug: 'outdoors',
    name: 'Outdoors',
    children: [
      { slug: 'camping', name: 'Camping', nouns: ['Tent', 'Sleeping Bag', 'Camp Stove', 'Lantern'], basePrice: 5900 },
      { slug: 'cycling', name: 'Cycling', nouns: ['Bike Light', 'Helmet', 'Saddle Bag'], basePrice: 2900 },
    ],
  },
];

const ADJECTIVES = ['Aurora', 'Summit', 'Nimbus', 'Ember', 'Harbor', 'Quartz', 'Cedar', 'Vertex', 'Drift', 'Atlas'];
const DETAILS = [
  'built to last with a two-year warranty',
  'lightweight and easy to carry',
  'made from recycled materials',
  'a customer favourite for everyday use',
  'designed in small batches with care',
];

export interface DemoProduct {
  id: string;
  sku: string;
  slug: string;
  name: string;
  description: string;
  priceCents: number;
  categoryId: string;
  createdAt: Date;
}

/** 10 adjectives × 23 nouns = 230 products across 7 leaf categories in 3 top-level ones. */
export function demoCatalog() {
  const categories: { id: string; slug: string; name: string; parentId: string | null }[] = [];
  const products: DemoProduct[] = [];
  let sequence = 0;
  const epoch = Date.UTC(2026, 0, 1);
  for (const top of CATEGORY_TREE) {
    const topId = demoId(`category:${top.slug}`);
    categories.push({ id: topId, slug: top.slug, name: top.name, parentId: null });
    for (const leaf of top.children) {
      const leafId = demoId(`category:${leaf.slug}`);
      categories.push({ id: leafId, slug: leaf.slug, name: leaf.name, parentId: topId });
      for (const noun of leaf.nouns) {
        ADJECTIVES.forEach((adjective, index) => {
          sequence += 1;
          const name = `${adjective} ${noun}`;
          const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
          products.push({
            id: demoId(`product:${slug}`),
            sku: `SKU-${String(sequence).padStart(5, '0')}`,
            slug,
            name,
            description: `The ${name}: ${DETAILS[sequence % DETAILS.length]}.`,
            // Some prices repeat on purpose, so price sorting has ties to break.
            priceCents: leaf.basePrice + (index % 5) * 1000 - 1,
            categoryId: leafId,
            createdAt: new Date(epoch + sequence * 3_600_000),
          });
        });
      }
    }
  }
  return { categories, products };
}

/** Loads the demo catalog once; a catalog that already has products is left alone. */
export async function seedDemoCatalog(prisma: PrismaClient): Promise<{ seeded: boolean; products: number }> {
  if ((await prisma.product.count()) > 0) return { seeded: false, products: 0 };
  const { categories, products } = demoCatalog();
  await prisma.$transaction(async (tx) => {
    for (const category of categories.filter((c) => c.parentId === null)) await tx.category.create({ data: category });
    await tx.category.createMany({ data: categories.filter((c) => c.parentId !== null) });
    await tx.product.createMany({ data: products.map((p) => ({ ...p, updatedAt: p.createdAt })) });
  });
  return { seeded: true, products: products.length };
}
