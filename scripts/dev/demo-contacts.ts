/**
 * The demo tenant's contacts: realistic enough to look at, deterministic (the same list for the
 * same size and seed day, so a resumed seed imports the same rows and updates nothing).
 */

export interface DemoContact {
  email: string;
  external_ref: string;
  first_name: string;
  last_name: string;
  birth_date: string;
  time_zone: string;
  tags: string[];
  attributes: Record<string, string | number>;
}

interface Region {
  zone: string;
  city: string;
  share: number;
  first: readonly string[];
  last: readonly string[];
}

const REGIONS: readonly Region[] = [
  {
    zone: 'Europe/Paris',
    city: 'Paris',
    share: 0.3,
    first: ['Camille', 'Léa', 'Manon', 'Chloé', 'Lucas', 'Hugo', 'Louis', 'Jules', 'Inès', 'Gabriel'],
    last: [
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
    ],
  },
  {
    zone: 'America/New_York',
    city: 'New York',
    share: 0.25,
    first: ['Emma', 'Olivia', 'Ava', 'Sophia', 'Liam', 'Noah', 'James', 'Ethan', 'Mia', 'Benjamin'],
    last: ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Moore', 'Clark'],
  },
  {
    zone: 'Asia/Tokyo',
    city: 'Tokyo',
    share: 0.15,
    first: ['Haruto', 'Yuto', 'Sota', 'Yui', 'Aoi', 'Hina', 'Ren', 'Sakura', 'Riku', 'Mei'],
    last: [
      'Sato',
      'Suzuki',
      'Takahashi',
      'Tanaka',
      'Watanabe',
      'Ito',
      'Yamamoto',
      'Nakamura',
      'Kobayashi',
      'Kato',
    ],
  },
  {
    zone: 'Australia/Sydney',
    city: 'Sydney',
    share: 0.1,
    first: ['Charlotte', 'Amelia', 'Isla', 'Oliver', 'Jack', 'William', 'Harper', 'Leo', 'Matilda', 'Henry'],
    last: [
      'Taylor',
      'Anderson',
      'White',
      'Harris',
      'Martin',
      'Thompson',
      'Walker',
      'Young',
      'King',
      'Wright',
    ],
  },
  {
    zone: 'America/Sao_Paulo',
    city: 'São Paulo',
    share: 0.12,
    first: [
      'Miguel',
      'Arthur',
      'Heitor',
      'Helena',
      'Alice',
      'Laura',
      'Davi',
      'Valentina',
      'Bernardo',
      'Júlia',
    ],
    last: [
      'Silva',
      'Santos',
      'Oliveira',
      'Souza',
      'Rodrigues',
      'Ferreira',
      'Alves',
      'Pereira',
      'Lima',
      'Gomes',
    ],
  },
  {
    zone: 'Europe/London',
    city: 'London',
    share: 0.08,
    first: ['George', 'Arthur', 'Freddie', 'Florence', 'Evie', 'Alfie', 'Poppy', 'Theo', 'Ivy', 'Archie'],
    last: ['Jones', 'Evans', 'Roberts', 'Hughes', 'Lewis', 'Edwards', 'Green', 'Hall', 'Wood', 'Turner'],
  },
];

const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;

/** Share of contacts whose birthday is today (in their own time zone). */
export const BIRTHDAY_SHARE = 0.03;
/** Share of contacts tagged `trial`: the demo sequence enrolls them. */
export const TRIAL_SHARE = 0.02;

/** mulberry32: a small, fast, seedable PRNG; the demo only needs determinism, not quality. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ascii = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();

/** Today's month-day (MM-DD) in a time zone, at `now`. */
export function monthDayIn(zone: string, now: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, month: '2-digit', day: '2-digit' })
    .formatToParts(now)
    .reduce<Record<string, string>>((acc, p) => ({ ...acc, [p.type]: p.value }), {});
  return `${parts.month}-${parts.day}`;
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * `count` contacts. One in 1/BIRTHDAY_SHARE has its birthday today in its own time zone at `now`
 * (the moment the demo was first seeded, so a resumed seed generates the same dates); the others
 * on a day at least three days away; one in 1/TRIAL_SHARE is tagged `trial`.
 */
export function demoContacts(count: number, now: Date): DemoContact[] {
  const random = prng(20_260_522);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const birthdayEvery = Math.max(1, Math.round(1 / BIRTHDAY_SHARE));
  const trialEvery = Math.max(1, Math.round(1 / TRIAL_SHARE));
  const contacts: DemoContact[] = [];
  for (let i = 0; i < count; i += 1) {
    let r = random();
    const region = REGIONS.find((g) => (r -= g.share) < 0) ?? REGIONS[0]!;
    const first = pick(region.first);
    const last = pick(region.last);
    const year = 1955 + Math.floor(random() * 50);
    let monthDay: string;
    if (i % birthdayEvery === 7 % birthdayEvery) {
      monthDay = monthDayIn(region.zone, now);
    } else {
      // Three days or more away from today: today in no time zone, so never an accidental greeting.
      const away = new Date(now.getTime() + (3 + Math.floor(random() * 359)) * 86_400_000);
      monthDay = away.toISOString().slice(5, 10);
    }
    const birthYear = monthDay === '02-29' && !isLeap(year) ? 1996 : year;
    const tags = [random() < 0.7 ? 'newsletter' : null, random() < 0.35 ? 'customer' : 'lead'];
    if (random() < 0.05) tags.push('vip');
    if (i % trialEvery === 3 % trialEvery) tags.push('trial');
    contacts.push({
      email: `${ascii(first)}.${ascii(last)}.${i + 1}@example.com`,
      external_ref: `demo-${String(i + 1).padStart(6, '0')}`,
      first_name: first,
      last_name: last,
      birth_date: `${birthYear}-${monthDay}`,
      time_zone: region.zone,
      tags: tags.filter((t): t is string => t !== null),
      attributes: { city: region.city, plan: pick(PLANS), seats: 1 + Math.floor(random() * 50) },
    });
  }
  return contacts;
}
