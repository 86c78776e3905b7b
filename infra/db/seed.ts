import type { MikroORM } from '@mikro-orm/postgresql';

const DAY = 86_400;

/** Starter catalog. Idempotent: existing slugs are left as the operator edited them. */
export const DEFAULT_TARIFFS = [
  {
    slug: 'month-1',
    name: '1 месяц',
    description: 'VLESS + Reality, без ограничений трафика',
    price: '199.00',
    days: 30,
    stars: 100,
    order: 1,
  },
  {
    slug: 'month-3',
    name: '3 месяца',
    description: 'Выгоднее на 15%',
    price: '499.00',
    days: 90,
    stars: 250,
    order: 2,
  },
  {
    slug: 'month-12',
    name: '12 месяцев',
    description: 'Выгоднее на 35%',
    price: '1590.00',
    days: 365,
    stars: 800,
    order: 3,
  },
];

export async function seedTariffs(orm: MikroORM): Promise<number> {
  const conn = orm.em.getConnection();
  let inserted = 0;
  for (const t of DEFAULT_TARIFFS) {
    const rows = await conn.execute(
      `insert into tariffs (slug, name, description, price, currency, duration_seconds, star_price, display_order)
       values (?, ?, ?, ?, 'RUB', ?, ?, ?) on conflict (slug) do nothing returning id`,
      [t.slug, t.name, t.description, t.price, t.days * DAY, t.stars, t.order],
    );
    inserted += rows.length;
  }
  return inserted;
}

if (require.main === module) {
  void (async () => {
    const { loadConfigOrExit } = await import('../config');
    const { openOrm } = await import('./orm');
    const { logger } = await import('../logger');
    const orm = await openOrm(loadConfigOrExit().DATABASE_URL, { pool: 1 });
    const inserted = await seedTariffs(orm);
    logger.info({ inserted }, 'tariffs seeded');
    await orm.close();
  })();
}
