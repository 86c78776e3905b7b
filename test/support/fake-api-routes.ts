import { randomUUID } from 'node:crypto';
import type { Express, Request, Response } from 'express';
import type { FakeApi, FakePayment, FakeTariff } from './fake-api';

/** The fake API's routes, one per contract route the bot calls (bodies as in /work/shared/contract.md). */

export type FakeApiState = Pick<FakeApi, 'tariffs' | 'users' | 'payments' | 'active'>;

export function mountContractRoutes(app: Express, state: FakeApiState, baseUrl: () => string): void {
  const { tariffs, users, payments, active } = state;

  function newPayment(telegramId: number, tariff: FakeTariff, provider: 'yookassa' | 'stars'): FakePayment {
    const now = Date.now();
    const stars = provider === 'stars';
    const payment: FakePayment = {
      payment_id: randomUUID(),
      telegram_id: telegramId,
      tariff_id: tariff.id,
      provider,
      payment_status: 'pending',
      amount: stars ? String(tariff.star_price) : tariff.price,
      currency: stars ? 'XTR' : tariff.currency,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + 3600_000).toISOString(),
    };
    payments.set(payment.payment_id, payment);
    return payment;
  }

  const created = (p: FakePayment) => ({
    payment_id: p.payment_id,
    confirmation_url: p.provider === 'stars' ? null : `${baseUrl()}/checkout/${p.payment_id}`,
    payment_status: p.payment_status,
    amount: p.amount,
    currency: p.currency,
    created_at: p.created_at,
    expires_at: p.expires_at,
    workflow_id: `purchase-${p.payment_id}`,
  });

  app.get('/api/v1/tariffs', (_req, res) => void res.json({ tariffs }));

  app.post('/api/v1/users/register', (req: Request, res: Response) => {
    const { telegram_id, referral } = req.body ?? {};
    if (!Number.isInteger(telegram_id))
      return void res.status(422).json({ error: 'telegram_id must be an integer' });
    const existing = users.get(telegram_id);
    const user = existing ?? { user_id: randomUUID(), telegram_id, referral };
    users.set(telegram_id, user);
    res.status(existing ? 200 : 201).json({ user_id: user.user_id, telegram_id });
  });

  app.post('/api/v1/payments/create', (req: Request, res: Response) => {
    const { telegram_id, tariff_id, tariff_slug, provider = 'yookassa' } = req.body ?? {};
    if (provider !== 'yookassa' && provider !== 'stars')
      return void res.status(422).json({ error: 'provider' });
    const tariff = tariffs.find((t) => t.id === tariff_id || t.slug === tariff_slug);
    if (!users.has(telegram_id) || !tariff)
      return void res.status(404).json({ error: 'unknown user or tariff' });
    if (provider === 'stars' && !tariff.star_price) return void res.status(422).json({ error: 'provider' });
    res.status(201).json(created(newPayment(telegram_id, tariff, provider)));
  });

  app.post('/api/v1/payments/stars/confirm', (req: Request, res: Response) => {
    const { telegram_id, payload, telegram_payment_charge_id, total_amount } = req.body ?? {};
    const payment = payments.get(payload);
    if (payment?.provider !== 'stars' || payment.telegram_id !== telegram_id) {
      return void res.status(404).json({ error: 'unknown payment' });
    }
    if (Number(payment.amount) !== total_amount || typeof telegram_payment_charge_id !== 'string') {
      return void res.status(422).json({ error: 'total_amount' });
    }
    Object.assign(payment, { payment_status: 'succeeded', charge_id: telegram_payment_charge_id });
    res.json({ payment_id: payment.payment_id, payment_status: payment.payment_status });
  });

  app.get('/api/v1/payments/:id', (req: Request, res: Response) => {
    const p = payments.get(String(req.params.id));
    if (!p) return void res.status(404).json({ error: 'unknown payment' });
    res.json({
      payment_id: p.payment_id,
      payment_status: p.payment_status,
      amount: p.amount,
      currency: p.currency,
      telegram_id: p.telegram_id,
      tariff_id: p.tariff_id,
      provider: p.provider,
    });
  });

  app.post('/api/v1/payments/:id/retry', (req: Request, res: Response) => {
    const old = payments.get(String(req.params.id));
    const tariff = tariffs.find((t) => t.id === old?.tariff_id);
    if (!old || !tariff) return void res.status(404).json({ error: 'unknown payment' });
    res.json(created(newPayment(old.telegram_id, tariff, old.provider)));
  });

  app.get('/api/v1/subscriptions/:tid/status', (req: Request, res: Response) => {
    const tid = Number(req.params.tid);
    if (!users.has(tid)) return void res.status(404).json({ error: 'unknown user' });
    const sub = active.get(tid);
    const last = [...payments.values()].filter((p) => p.telegram_id === tid).at(-1);
    const days = sub ? Math.max(0, Math.ceil((Date.parse(sub.end_date) - Date.now()) / 86_400_000)) : 0;
    res.json({
      has_active_subscription: Boolean(sub),
      subscription_id: sub ? `sub-${tid}` : null,
      status: sub ? 'active' : null,
      tariff_name: sub?.tariff_name ?? null,
      days_remaining: days,
      end_date: sub?.end_date ?? null,
      auto_renewal: false,
      last_payment_status: last?.payment_status ?? null,
      traffic_used_bytes: sub?.traffic_used_bytes ?? 0,
      traffic_limit_bytes: sub?.traffic_limit_bytes ?? null,
      suspended: sub?.suspended ?? false,
    });
  });

  app.get('/api/v1/subscriptions/:tid/config', (req: Request, res: Response) => {
    const sub = active.get(Number(req.params.tid));
    if (!sub) return void res.status(404).json({ error: 'no active subscription' });
    res.json({
      vless_url: sub.vless_url,
      subscription_url: sub.subscription_url,
      qr_png_base64: sub.qr_png_base64,
    });
  });

  // Admin stats in the real API's shape (api/stats.ts statsBody), so bot tests catch rendering drift.
  app.get('/api/v1/admin/stats', (_req, res) => {
    const paid = [...payments.values()].filter((p) => p.payment_status === 'succeeded');
    const revenue = paid.length
      ? [{ currency: 'RUB', amount: (paid.length * 199).toFixed(2), payments: paid.length }]
      : [];
    res.json({
      timezone: 'UTC',
      users: users.size,
      active_subscriptions: active.size,
      revenue: { today: revenue, this_month: revenue, by_day: [], by_month: [] },
      conversion: {
        catalog_viewers: users.size,
        buyers: paid.length,
        rate: users.size ? paid.length / users.size : 0,
      },
      nodes: [],
    });
  });
  app.get('/api/v1/admin/purchases', (_req, res) => {
    const pending = [...payments.values()].filter((p) => p.payment_status === 'pending');
    res.json({
      purchases: pending.map((p) => ({
        workflow_id: `purchase-${p.payment_id}`,
        telegram_id: p.telegram_id,
        stage: 'awaiting_payment',
        stage_entered_at: p.created_at,
      })),
    });
  });
  app.get('/api/v1/admin/users/:q', (req: Request, res: Response) => {
    const user = users.get(Number(req.params.q));
    if (!user) return void res.status(404).json({ error: 'not found' });
    res.json({ ...user, has_active_subscription: active.has(user.telegram_id) });
  });
  app.get('/api/v1/admin/nodes', (_req, res) => {
    res.json({
      nodes: [
        {
          id: 'n1',
          name: 'ams-1',
          location: 'Amsterdam',
          status: 'healthy',
          users: active.size,
          capacity: 500,
          agent_token: 'must-not-show',
        },
      ],
    });
  });
}
