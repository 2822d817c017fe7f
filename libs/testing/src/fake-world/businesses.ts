/** A deterministic world of businesses and people: the same seed gives the same world. */

export interface FakeBusiness {
  id: string;
  name: string;
  slug: string;
  category: string;
  city: string;
  email: string;
  phone: string;
  address: { street: string; city: string; postal_code: string; country: string };
  /** `http://<slug>.sites.test:<sitesPort>/` */
  website: string;
}

export interface FakePerson {
  id: string;
  name: string;
  jobTitle: string;
  email: string;
  city: string;
  /** The business they run (index into the businesses). */
  business: number;
}

export const CATEGORIES = [
  'bakery',
  'plumber',
  'dentist',
  'florist',
  'garage',
  'bookshop',
  'cafe',
  'gym',
] as const;
export const CITIES = ['Lyon', 'Paris', 'Nantes', 'Lille', 'Bordeaux', 'Toulouse'] as const;
const FIRST = [
  'Ana',
  'Bruno',
  'Chloé',
  'Dmitri',
  'Élodie',
  'Farid',
  'Greta',
  'Hugo',
  'Inès',
  'Jonas',
  'Kofi',
  'Léa',
];
const LAST = [
  'Martin',
  'Bernard',
  'Dubois',
  'Thomas',
  'Robert',
  'Richard',
  'Petit',
  'Durand',
  'Leroy',
  'Moreau',
];
const WORDS = ['Golden', 'Blue', 'Corner', 'Royal', 'Little', 'Green', 'Old Town', 'Sunny', 'River', 'North'];

/** mulberry32: small, fast, deterministic. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

export function generateBusinesses(options: {
  seed: number;
  count: number;
  sitesPort: number;
}): FakeBusiness[] {
  const r = random(options.seed);
  return Array.from({ length: options.count }, (_, i) => {
    const category = pick(r, CATEGORIES);
    const city = pick(r, CITIES);
    const name = `${pick(r, WORDS)} ${category[0]!.toUpperCase()}${category.slice(1)} ${i + 1}`;
    const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
    return {
      id: `biz-${options.seed}-${i + 1}`,
      name,
      slug,
      category,
      city,
      email: `hello@${slug}.example`,
      phone: `+33 4 ${String(10 + Math.floor(r() * 89))} ${String(10 + Math.floor(r() * 89))} ${String(10 + (i % 89))}`,
      address: {
        street: `${1 + Math.floor(r() * 200)} rue ${pick(r, LAST)}`,
        city,
        postal_code: String(69000 + Math.floor(r() * 900)),
        country: 'FR',
      },
      website: `http://${slug}.sites.test:${options.sitesPort}/`,
    };
  });
}

export function generatePeople(options: { seed: number; count: number; businesses: number }): FakePerson[] {
  const r = random(options.seed * 31 + 7);
  return Array.from({ length: options.count }, (_, i) => {
    const first = pick(r, FIRST);
    const last = pick(r, LAST);
    return {
      id: `person-${options.seed}-${i + 1}`,
      name: `${first} ${last}`,
      jobTitle: pick(r, ['Owner', 'Manager', 'Founder', 'Director']),
      email: `${first.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()}.${last.toLowerCase()}.${i + 1}@mail.example`,
      city: pick(r, CITIES),
      business: Math.floor(r() * Math.max(1, options.businesses)),
    };
  });
}
