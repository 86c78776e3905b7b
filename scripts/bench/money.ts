import type { PurchaseSystem } from '../../infra/local/system';

/**
 * The money invariant, checked once everything has settled:
 *  - every payment our database records as succeeded is linked to exactly one 'activated'/'extended' event;
 *  - a refunded payment granted nothing (or the grant was undone: no access left from it);
 *  - every payment YooKassa took money for is recorded by us as succeeded or refunded (nothing lost);
 *  - every payment we record as refunded has a succeeded refund at YooKassa.
 */
export interface MoneyCheck {
  payments: number;
  succeeded: number;
  refunded: number;
  violations: number;
  /** Payment ids per kind of violation (only kinds that occurred). */
  details: Record<string, string[]>;
}

export async function checkMoney(sys: PurchaseSystem): Promise<MoneyCheck> {
  const rows: Array<{
    id: string;
    status: string;
    provider: string;
    provider_payment_id: string | null;
    grants: number;
    active: boolean;
  }> = await sys.orm.em.getConnection().execute(
    `select p.id, p.status, p.provider, p.provider_payment_id,
              count(e.id)::int as grants, coalesce(bool_or(s.status = 'active'), false) as active
         from payments p
         left join subscription_events e on e.payment_id = p.id and e.type in ('activated', 'extended')
         left join subscriptions s on s.id = e.subscription_id
        group by p.id`,
  );
  const details: Record<string, string[]> = {};
  const flag = (kind: string, id: string) => {
    details[kind] ??= [];
    details[kind].push(id);
  };
  const ours = new Map(rows.map((r) => [r.id, r]));
  for (const r of rows) {
    if (r.status === 'succeeded' && r.grants !== 1) flag(`succeeded_with_${r.grants}_grants`, r.id);
    if (r.status === 'refunded' && r.grants > 0 && r.active) flag('refunded_but_access_left', r.id);
  }
  const refundsAtProvider = new Set(
    sys.yookassa
      .refunds()
      .filter((f) => f.status === 'succeeded')
      .map((f) => f.payment_id),
  );
  for (const p of sys.yookassa.payments()) {
    const id = p.metadata?.purchase_id;
    if (p.status !== 'succeeded' || !id) continue;
    const row = ours.get(id);
    if (!row || (row.status !== 'succeeded' && row.status !== 'refunded')) flag('paid_but_not_recorded', id);
  }
  for (const r of rows) {
    if (
      r.status === 'refunded' &&
      r.provider === 'yookassa' &&
      !refundsAtProvider.has(r.provider_payment_id ?? '')
    ) {
      flag('refunded_not_at_provider', r.id);
    }
  }
  return {
    payments: rows.length,
    succeeded: rows.filter((r) => r.status === 'succeeded').length,
    refunded: rows.filter((r) => r.status === 'refunded').length,
    violations: Object.values(details).reduce((n, ids) => n + ids.length, 0),
    details,
  };
}
