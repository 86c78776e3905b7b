import { randomUUID } from 'node:crypto';
import { inTransaction, type Query } from '../activities/balance';
import { creditFor } from '../activities/plan-change';
import { paymentNoticeSignal, purchaseWorkflowId } from '../workflows/purchase-messages';
import { iso, type Row } from './db';
import type { ApiDeps } from './deps';
import { HttpError, invalidField, notFound } from './errors';
import { requireProviderAvailable } from './provider-gate';
import { type PaymentCreated, startPurchase } from './purchases';
import { refuseBannedUser } from './user-ban';

// Plan changes (issue 13, POST /api/v1/subscriptions/{telegram_id}/change). The rules, as README states them:
// - upgrade (not cheaper and not shorter than the current tariff): the unused value of the access
//   (activities/plan-change.ts creditFor: linear by remaining time) is credited against the new price; the
//   difference is paid (purpose `upgrade`, workflow purchase-<change id>), or nothing when the credit covers it,
//   in which case what the price leaves of the credit goes to the balance. The access gets the new tariff at once,
//   new end = now + the new period, same key;
// - downgrade (cheaper or shorter): scheduled, applied by the next renewal (activities/plan-change.ts).
// One pending change per access (a partial unique index); the same request again returns the same change.

/** Below the provider's minimum (1 RUB) a difference is waived: the change is applied without a payment. */
const MINIMUM_CENTS = 100;
/** An open change whose payment row never appeared (the start failed) stops blocking after this long. */
const STALE_START_SECONDS = 120;
/** How long the API waits for a change the credit covers to be applied before answering `applying`. */
const APPLY_WAIT_MS = 20_000;

const cents = (v: string | number) => Math.round(Number(v) * 100);
const money = (c: number) => (c / 100).toFixed(2);

export type ChangeKind = 'upgrade' | 'downgrade';

export interface ChangeApplied {
  change_id: string;
  kind: ChangeKind;
  status: 'applied' | 'applying' | 'scheduled' | 'canceled';
  tariff_id: number;
  credit: string;
  amount: string;
  currency: string;
  balance_credited: string;
  subscription_id: string;
  end_date: string | null;
  effective_at: string | null;
}

export type ChangeAnswer =
  | {
      status: 201;
      body: PaymentCreated & { change_id: string; kind: 'upgrade'; tariff_id: number; credit: string };
    }
  | { status: 200; body: ChangeApplied };

/** The user's active access with its tariff and node location, locked for the decision. */
async function activeAccess(q: Query, userId: string): Promise<Row> {
  const [sub] = await q(
    `select s.id, s.tariff_id, s.expires_at, s.user_id, t.name, t.price, t.currency, t.duration_seconds, n.location as node_location
       from subscriptions s join tariffs t on t.id = s.tariff_id left join vpn_nodes n on n.id = s.node_id
      where s.user_id = ? and s.status = 'active' and s.expires_at > now() for update of s`,
    [userId],
  );
  if (!sub) throw notFound('no_active_subscription', 'the user has no active access to change');
  return sub;
}

/** Cheaper or shorter is a downgrade; anything else (longer, dearer, another location) an upgrade. */
export const kindOf = (current: Row, target: Row): ChangeKind =>
  cents(target.price) < cents(current.price) ||
  Number(target.duration_seconds) < Number(current.duration_seconds)
    ? 'downgrade'
    : 'upgrade';

const otherLocation = (sub: Row, target: Row) =>
  Boolean(
    target.location &&
      sub.node_location &&
      String(target.location).toLowerCase() !== String(sub.node_location).toLowerCase(),
  );

/** What the upgrade costs now: the credit and the difference (0 when the credit covers it). */
export function priceAfterCredit(target: Row, credit: string): { amount: string; leftover: string } {
  let due = cents(target.price) - cents(credit);
  if (due < MINIMUM_CENTS) due = 0;
  return { amount: money(due), leftover: money(Math.max(0, cents(credit) - cents(target.price))) };
}

/** Open changes whose payment ended without applying them (canceled, expired, refunded, never created). */
async function lapseStale(q: Query, subscriptionId: string): Promise<void> {
  await q(
    `update plan_changes pc set status = 'lapsed', settled_at = now()
      where pc.subscription_id = ? and pc.status = 'open'
        and (exists (select 1 from payments p where p.id = pc.id and p.status in ('canceled', 'expired', 'refunded'))
             or (not exists (select 1 from payments p where p.id = pc.id)
                 and pc.created_at < now() - make_interval(secs => ?)))`,
    [subscriptionId, STALE_START_SECONDS],
  );
}

type Decision =
  | { kind: 'upgrade'; change: Row; reused: boolean }
  | { kind: 'scheduled' | 'canceled'; change: Row; sub: Row };

/** Under the access's row lock: the pending change again, a new one, or a refusal. */
function decide(deps: ApiDeps, user: Row, target: Row, provider: string): Promise<Decision> {
  return inTransaction(deps.orm, async (q) => {
    const sub = await activeAccess(q, user.id);
    await lapseStale(q, sub.id);
    const [pending] = await q(
      `select * from plan_changes where subscription_id = ? and status in ('open', 'scheduled')`,
      [sub.id],
    );
    const sameTarget = pending && Number(pending.to_tariff_id) === Number(target.id);
    if (pending?.status === 'open') {
      if (sameTarget) return { kind: 'upgrade', change: pending, reused: true };
      throw new HttpError(
        409,
        'change_pending',
        'another plan change of this access is waiting for its payment; pay it or let it expire',
      );
    }
    if (Number(target.id) === Number(sub.tariff_id)) {
      if (!pending) throw new HttpError(409, 'same_tariff', 'the access is on this tariff already');
      // Back to the current tariff: the scheduled downgrade is called off.
      await q(`update plan_changes set status = 'canceled', settled_at = now() where id = ?`, [pending.id]);
      return { kind: 'canceled', change: { ...pending, status: 'canceled' }, sub };
    }
    if (sameTarget) return { kind: 'scheduled', change: pending, sub };
    if (String(target.currency).trim() !== String(sub.currency).trim())
      throw invalidField(
        'tariff_id',
        `the new tariff is priced in ${target.currency}, the access in ${sub.currency}`,
      );
    const kind = kindOf(sub, target);
    if (kind === 'downgrade' && otherLocation(sub, target))
      throw new HttpError(
        409,
        'location_mismatch',
        `a cheaper or shorter plan keeps the access in ${sub.node_location}; a ${target.location} plan is an upgrade or a new purchase`,
      );
    if (pending)
      await q(`update plan_changes set status = 'superseded', settled_at = now() where id = ?`, [pending.id]);
    const credit = kind === 'upgrade' ? await creditFor(q, sub.id, String(sub.currency).trim()) : '0.00';
    const { amount } = kind === 'upgrade' ? priceAfterCredit(target, credit) : { amount: '0.00' };
    const [change] = await q(
      `insert into plan_changes (id, subscription_id, user_id, kind, from_tariff_id, to_tariff_id, credit, amount,
          currency, provider, quoted_expires_at, status)
       select ?, s.id, s.user_id, ?, s.tariff_id, ?, ?, ?, ?, ?, s.expires_at, ? from subscriptions s where s.id = ?
       returning *`,
      [
        randomUUID(),
        kind,
        target.id,
        credit,
        amount,
        String(sub.currency).trim(),
        kind === 'upgrade' ? (cents(amount) === 0 ? 'free' : provider) : null,
        kind === 'upgrade' ? 'open' : 'scheduled',
        sub.id,
      ],
    );
    return kind === 'upgrade'
      ? { kind: 'upgrade', change, reused: false }
      : { kind: 'scheduled', change, sub };
  });
}

const sql = (deps: ApiDeps, query: string, params: unknown[]) =>
  deps.orm.em.getConnection().execute(query, params);

/** The answer for a change that is not a payment: scheduled, called off, or applied from the credit. */
async function appliedBody(
  deps: ApiDeps,
  changeId: string,
  fallback?: ChangeApplied['status'],
): Promise<ChangeApplied> {
  const [c] = await sql(
    deps,
    `select pc.*, t.price as to_price, s.expires_at from plan_changes pc join tariffs t on t.id = pc.to_tariff_id
       join subscriptions s on s.id = pc.subscription_id where pc.id = ?`,
    [changeId],
  );
  const status: ChangeApplied['status'] =
    c.status === 'applied'
      ? 'applied'
      : c.status === 'scheduled'
        ? 'scheduled'
        : c.status === 'canceled'
          ? 'canceled'
          : (fallback ?? 'applying');
  return {
    change_id: c.id,
    kind: c.kind,
    status,
    tariff_id: Number(c.to_tariff_id),
    credit: String(c.credit),
    amount: String(c.amount),
    currency: String(c.currency).trim(),
    balance_credited:
      c.kind === 'upgrade' && c.status === 'applied'
        ? priceAfterCredit({ price: c.to_price }, String(c.credit)).leftover
        : '0.00',
    subscription_id: c.subscription_id,
    end_date: iso(c.status === 'applied' ? c.new_expires_at : c.expires_at),
    effective_at: c.kind === 'downgrade' ? iso(c.quoted_expires_at) : iso(c.settled_at ?? c.created_at),
  };
}

/** The payment of an upgrade: from its row once it exists, else from its (started or attached) workflow. */
async function upgradePayment(deps: ApiDeps, user: Row, target: Row, change: Row): Promise<PaymentCreated> {
  const [p] = await sql(deps, `select * from payments where id = ?`, [change.id]);
  if (p)
    return {
      payment_id: p.id,
      confirmation_url: p.confirmation_url ?? null,
      payment_status: p.status === 'succeeded' ? 'succeeded' : 'pending',
      amount: String(p.amount),
      currency: p.currency,
      created_at: new Date(p.created_at).toISOString(),
      expires_at: new Date(p.expires_at).toISOString(),
      workflow_id: purchaseWorkflowId(p.id),
      provider: p.provider,
    };
  return startPurchase(deps, {
    user,
    // The snapshot carries the difference as its price: that is what the provider is asked for.
    tariff: { ...target, price: String(change.amount) },
    provider: change.provider,
    paymentId: change.id,
    attach: true,
    purpose: 'upgrade',
  });
}

/** Waits (bounded) for a purchase to finish; false when it is still running. */
async function finished(deps: ApiDeps, paymentId: string): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const result = deps.temporal.workflow.getHandle(purchaseWorkflowId(paymentId)).result();
  result.catch(() => undefined);
  return Promise.race([
    result.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), APPLY_WAIT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** POST /change: decide under the lock, then start (or find) the upgrade's payment. */
export async function changePlan(
  deps: ApiDeps,
  req: { user: Row; target: Row; provider: 'yookassa' | 'balance' },
): Promise<ChangeAnswer> {
  refuseBannedUser(req.user);
  const decision = await decide(deps, req.user, req.target, req.provider);
  if (decision.kind !== 'upgrade') return { status: 200, body: await appliedBody(deps, decision.change.id) };
  const { change } = decision;
  let payment: PaymentCreated;
  try {
    if (!decision.reused) await requireProviderAvailable(deps, change.provider);
    payment = await upgradePayment(deps, req.user, req.target, change);
  } catch (err) {
    // A start that failed for good frees the access for another request; a timeout may still answer.
    const timedOut = err instanceof HttpError && err.code === 'purchase_start_timeout';
    if (!timedOut && !decision.reused)
      await sql(
        deps,
        `update plan_changes set status = 'lapsed', settled_at = now() where id = ? and status = 'open'`,
        [change.id],
      ).catch(() => undefined);
    throw err;
  }
  if (change.provider === 'free') {
    // Nothing to pay: the purchase takes our word (as for a 100 % promo code) and applies the change.
    await deps.temporal.workflow.getHandle(purchaseWorkflowId(change.id)).signal(paymentNoticeSignal, {
      providerPaymentId: change.id,
      status: 'succeeded',
      amount: '0.00',
      currency: payment.currency,
    });
    await finished(deps, change.id);
    return { status: 200, body: await appliedBody(deps, change.id) };
  }
  return {
    status: 201,
    body: {
      ...payment,
      change_id: change.id,
      kind: 'upgrade',
      tariff_id: Number(change.to_tariff_id),
      credit: String(change.credit),
    },
  };
}

export interface ChangeQuote {
  subscription_id: string;
  tariff_id: number;
  tariff_name: string;
  credit: string;
  currency: string;
  end_date: string | null;
  pending: {
    change_id: string;
    kind: ChangeKind;
    status: 'open' | 'scheduled';
    tariff_id: number;
    tariff_name: string;
    amount: string;
    effective_at: string | null;
  } | null;
  options: Array<{
    tariff_id: number;
    slug: string;
    name: string;
    price: string;
    kind: ChangeKind;
    amount: string;
  }>;
}

/** GET /change: the credit now, the pending change, and what each tariff on sale would cost as a change. */
export async function changeQuote(deps: ApiDeps, user: Row): Promise<ChangeQuote> {
  return inTransaction(deps.orm, async (q) => {
    const sub = await activeAccess(q, user.id);
    await lapseStale(q, sub.id);
    const currency = String(sub.currency).trim();
    const credit = await creditFor(q, sub.id, currency);
    const [pending] = await q(
      `select pc.*, t.name as tariff_name from plan_changes pc join tariffs t on t.id = pc.to_tariff_id
        where pc.subscription_id = ? and pc.status in ('open', 'scheduled')`,
      [sub.id],
    );
    const tariffs = await q(
      `select * from tariffs where is_active and id <> ? and currency = ? order by display_order, id`,
      [sub.tariff_id, currency],
    );
    const options = tariffs
      .map((t) => ({ t, kind: kindOf(sub, t) }))
      .filter(({ t, kind }) => !(kind === 'downgrade' && otherLocation(sub, t)))
      .filter(({ t }) => !t.kind || t.kind === 'subscription')
      .map(({ t, kind }) => ({
        tariff_id: Number(t.id),
        slug: t.slug,
        name: t.name,
        price: String(t.price),
        kind,
        amount: kind === 'upgrade' ? priceAfterCredit(t, credit).amount : '0.00',
      }));
    return {
      subscription_id: sub.id,
      tariff_id: Number(sub.tariff_id),
      tariff_name: sub.name,
      credit,
      currency,
      end_date: iso(sub.expires_at),
      pending: pending
        ? {
            change_id: pending.id,
            kind: pending.kind,
            status: pending.status,
            tariff_id: Number(pending.to_tariff_id),
            tariff_name: pending.tariff_name,
            amount: String(pending.amount),
            effective_at: pending.kind === 'downgrade' ? iso(pending.quoted_expires_at) : null,
          }
        : null,
      options,
    };
  });
}

/** Retry of a failed upgrade payment (POST /payments/{id}/retry): the same change asked again, a new credit. */
export async function retryPlanChange(
  deps: ApiDeps,
  user: Row,
  target: Row,
  old: Row,
): Promise<PaymentCreated> {
  const provider = old.provider === 'balance' ? 'balance' : 'yookassa';
  const answer = await changePlan(deps, { user, target, provider });
  if (answer.status === 201) return answer.body;
  throw new HttpError(
    409,
    'change_needs_no_payment',
    `the change to this tariff needs no payment now (it is ${answer.body.status})`,
  );
}
