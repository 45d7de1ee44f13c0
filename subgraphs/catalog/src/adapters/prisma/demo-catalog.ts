import { createHash } from 'node:crypto';
import type { Prisma, PrismaClient } from '../../generated/prisma/client.ts';

/** Stable ids so the demo catalog is the same on every machine (links and tests can rely on them). */
export function demoId(name: string): string {
  const hex = createHash('sha1').update(`commerce-graph-demo:${name}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface DemoLeaf {
  slug: string;
  name: string;
  description: string;
  nouns: string[];
  basePrice: number;
  /** Specification lines; `index` varies them across the ten products of a noun. */
  attributes: (index: number) => { name: string; value: string }[];
}

const COLORS = ['Black', 'White', 'Slate Grey', 'Sand', 'Forest Green', 'Navy', 'Coral', 'Graphite', 'Ivory', 'Olive'];

const CATEGORY_TREE: { slug: string; name: string; description: string; children: DemoLeaf[] }[] = [
  {
    slug: 'electronics',
    name: 'Electronics',
    description: 'Audio, input devices and cameras for work and play.',
    children: [
      {
        slug: 'headphones',
        name: 'Headphones',
        description: 'Over-ear, in-ear and headsets.',
        nouns: ['Headphones', 'Earbuds', 'Headset'],
        basePrice: 4900,
        attributes: (i) => [
          { name: 'Connectivity', value: i % 3 === 0 ? 'Wired (3.5 mm)' : 'Bluetooth 5.3' },
          { name: 'Battery life', value: i % 3 === 0 ? 'n/a' : `${20 + i * 4} h` },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
      {
        slug: 'keyboards',
        name: 'Keyboards',
        description: 'Mechanical keyboards, keypads and macro pads.',
        nouns: ['Keyboard', 'Keypad', 'Macro Pad'],
        basePrice: 3900,
        attributes: (i) => [
          { name: 'Switches', value: ['Linear', 'Tactile', 'Clicky'][i % 3]! },
          { name: 'Layout', value: i % 2 === 0 ? 'ANSI' : 'ISO' },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
      {
        slug: 'cameras',
        name: 'Cameras',
        description: 'Compact, action and web cameras.',
        nouns: ['Camera', 'Action Cam', 'Webcam'],
        basePrice: 8900,
        attributes: (i) => [
          { name: 'Resolution', value: i % 2 === 0 ? '4K' : '1080p' },
          { name: 'Sensor', value: `${12 + i * 2} MP` },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
    ],
  },
  {
    slug: 'home',
    name: 'Home & Kitchen',
    description: 'Everyday things for cooking and living.',
    children: [
      {
        slug: 'kitchen',
        name: 'Kitchen',
        description: 'Kettles, knives, pans and coffee makers.',
        nouns: ['Kettle', 'Chef Knife', 'Skillet', 'French Press'],
        basePrice: 2500,
        attributes: (i) => [
          { name: 'Material', value: ['Stainless steel', 'Cast iron', 'Borosilicate glass', 'Carbon steel'][i % 4]! },
          { name: 'Dishwasher safe', value: i % 2 === 0 ? 'Yes' : 'No' },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
      {
        slug: 'lighting',
        name: 'Lighting',
        description: 'Desk, floor and pendant lights.',
        nouns: ['Desk Lamp', 'Floor Lamp', 'Pendant Light'],
        basePrice: 3500,
        attributes: (i) => [
          { name: 'Bulb', value: i % 2 === 0 ? 'LED, dimmable' : 'E27 socket' },
          { name: 'Color temperature', value: `${2700 + (i % 4) * 300} K` },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
    ],
  },
  {
    slug: 'outdoors',
    name: 'Outdoors',
    description: 'Gear for camping trips and bike rides.',
    children: [
      {
        slug: 'camping',
        name: 'Camping',
        description: 'Tents, sleeping bags, stoves and lanterns.',
        nouns: ['Tent', 'Sleeping Bag', 'Camp Stove', 'Lantern'],
        basePrice: 5900,
        attributes: (i) => [
          { name: 'Weight', value: `${800 + i * 150} g` },
          { name: 'Season rating', value: i % 3 === 0 ? '4-season' : '3-season' },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
      {
        slug: 'cycling',
        name: 'Cycling',
        description: 'Lights, helmets and bags for bikes.',
        nouns: ['Bike Light', 'Helmet', 'Saddle Bag'],
        basePrice: 2900,
        attributes: (i) => [
          { name: 'Water resistance', value: i % 2 === 0 ? 'IPX6' : 'IPX4' },
          { name: 'Weight', value: `${150 + i * 25} g` },
          { name: 'Color', value: COLORS[i]! },
        ],
      },
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
  images: { url: string; alt: string }[];
  attributes: { name: string; value: string }[];
  onHand: number;
  createdAt: Date;
}

export interface DemoCategory {
  id: string;
  slug: string;
  name: string;
  description: string;
  parentId: string | null;
}

/**
 * Units on hand, varied but deterministic: every 11th product is sold out, every 7th is down to its
 * last three units, the rest have a comfortable stock.
 */
export function demoStock(sequence: number): number {
  if (sequence % 11 === 0) return 0;
  if (sequence % 7 === 0) return 3;
  return 10 + ((sequence * 37) % 90);
}

/** 10 adjectives × 23 nouns = 230 products across 7 leaf categories in 3 top-level ones. */
export function demoCatalog(): { categories: DemoCategory[]; products: DemoProduct[] } {
  const categories: DemoCategory[] = [];
  const products: DemoProduct[] = [];
  let sequence = 0;
  const epoch = Date.UTC(2026, 0, 1);
  for (const top of CATEGORY_TREE) {
    const topId = demoId(`category:${top.slug}`);
    categories.push({ id: topId, slug: top.slug, name: top.name, description: top.description, parentId: null });
    for (const leaf of top.children) {
      const leafId = demoId(`category:${leaf.slug}`);
      categories.push({ id: leafId, slug: leaf.slug, name: leaf.name, description: leaf.description, parentId: topId });
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
            images: [
              { url: `https://images.commerce-graph.example/products/${slug}/front.jpg`, alt: name },
              { url: `https://images.commerce-graph.example/products/${slug}/detail.jpg`, alt: `${name}, detail` },
            ],
            attributes: leaf.attributes(index),
            onHand: demoStock(sequence),
            createdAt: new Date(epoch + sequence * 3_600_000),
          });
        });
      }
    }
  }
  return { categories, products };
}

/** Loads the demo catalog once; a catalog that already has products is left alone. */
export async function seedDemoCatalog(
  prisma: PrismaClient,
): Promise<{ seeded: boolean; products: number; categories: number; outOfStock: number }> {
  if ((await prisma.product.count()) > 0) return { seeded: false, products: 0, categories: 0, outOfStock: 0 };
  const { categories, products } = demoCatalog();
  await prisma.$transaction(
    async (tx) => {
      await tx.category.createMany({ data: categories.filter((c) => c.parentId === null) });
      await tx.category.createMany({ data: categories.filter((c) => c.parentId !== null) });
      await tx.product.createMany({
        data: products.map(({ onHand: _onHand, images, attributes, ...product }) => ({
          ...product,
          images: images as Prisma.InputJsonValue,
          attributes: attributes as Prisma.InputJsonValue,
          updatedAt: product.createdAt,
        })),
      });
      await tx.stock.createMany({ data: products.map((product) => ({ productId: product.id, onHand: product.onHand })) });
      // One-off bulk load: Prisma's 5 s default is too short on a busy machine (PGlite runs in-process).
    },
    { timeout: 60_000, maxWait: 60_000 },
  );
  return {
    seeded: true,
    products: products.length,
    categories: categories.length,
    outOfStock: products.filter((product) => product.onHand === 0).length,
  };
}
