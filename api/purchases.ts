import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../infra/temporal';
import type { purchaseWorkflow } from '../workflows/purchase';
import {
  type PaymentLink,
  type PaymentPurpose,
  type Provider,
  type PurchaseInput,
  paymentLinkUpdate,
  PURCHASE_WORKFLOW_TYPE,
  purchaseWorkflowId,
} from '../workflows/purchase-messages';
import { type Row, sqlOne } from './db';
import { withDeadline } from './deadline';
import type { ApiDeps } from './deps';
import { HttpError, invalidField, notFound } from './errors';
import { purchaseSummary } from '../workflows/summaries';
import { Failure, failureType } from '../workflows/failures';
import type { TariffRow, UserRow } from '../infra/db/rows';

/** The purchase workflow answers with the payment link within about a second; past this we stop waiting. */
export const PAYMENT_LINK_WAIT_MS = 15_000;

export const paymentCreated = z.object({
  payment_id: z.string().uuid(),
  confirmation_url: z
    .string()
    .nullable()
    .describe(
      'YooKassa checkout page; null for Telegram Stars (send an invoice), except a Stars subscription (`save_payment_method`): its createInvoiceLink link',
    ),
  payment_status: z
    .enum(['pending', 'succeeded'])
    .describe(
      '`succeeded` when paid at once (from the balance, or a 100 % promo code with provider `free`): no confirmation_url, the key follows by message',
    ),
  amount: z.string(),
  currency: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  workflow_id: z.string(),
  provider: z.enum(['yookassa', 'stars', 'balance', 'free']),
  list_price: z.string().optional().describe('The price before the promo code (only when one applied)'),
  discount: z.string().optional().describe('What the promo code took off (only when one applied)'),
  credit_amount: z
    .string()
    .optional()
    .describe(
      'Top-ups only: what the balance gets once paid (a Stars top-up is charged in Stars, credited in roubles)',
    ),
  credit_currency: z.string().optional().describe('Top-ups only: the balance currency of credit_amount'),
});
export type PaymentCreated = z.infer<typeof paymentCreated>;

export interface StartPurchaseArgs {
  /** A users row. */
  user: Row;
  /** A tariffs row (the snapshot the workflow keeps). */
  tariff: Row;
  provider: Provider;
  /** A payment id recorded beforehand (purchase-admission.ts); default a new one. */
  paymentId?: string;
  /** That purchase may already run: attach to it instead of failing (never restart a closed one). */
  attach?: boolean;
  /** What it buys (default `subscription`); a `topup` pays `amount` and needs no real tariff; a `gift` makes a
   * gift link instead of access. */
  purpose?: PaymentPurpose;
  amount?: string;
  /** Auto-renew consent on a card payment (`save_payment_method`). */
  savePaymentMethod?: boolean;
}

export type PurchaseDeps = Pick<ApiDeps, 'config' | 'temporal' | 'yookassa' | 'logger'>;

/** One new purchase = one new workflow, started with the Update that waits for its payment link. */
export async function startPurchase(
  deps: PurchaseDeps,
  {
    user,
    tariff,
    provider,
    paymentId = randomUUID(),
    attach = false,
    purpose,
    amount,
    savePaymentMethod,
  }: StartPurchaseArgs,
): Promise<PaymentCreated> {
  if (provider === 'stars' && !tariff.star_price) {
    throw invalidField(
      'provider',
      `tariff ${tariff.slug} has no star_price: it cannot be paid with Telegram Stars`,
    );
  }
  if (provider === 'yookassa' && !deps.yookassa) {
    throw new HttpError(503, 'payment_provider_unavailable', 'card payments are not configured');
  }
  const workflowId = purchaseWorkflowId(paymentId);
  const input: PurchaseInput = {
    paymentId,
    userId: user.id,
    telegramId: String(user.telegram_id),
    language: user.language,
    provider,
    tariff: {
      id: Number(tariff.id),
      name: tariff.name,
      price: tariff.price,
      currency: tariff.currency,
      durationSeconds: Number(tariff.duration_seconds),
      starPrice: tariff.star_price === null ? null : Number(tariff.star_price),
      location: tariff.location ?? null,
    },
    paymentTimeoutMs: deps.config.PAYMENT_TIMEOUT,
    remindBeforeMs: deps.config.REMIND_BEFORE,
    nodeWaitLimitMs: deps.config.NODE_WAIT_LIMIT,
    ...(purpose && purpose !== 'subscription' ? { purpose } : {}),
    ...(purpose === 'gift' ? { giftClaimWindowMs: deps.config.GIFT_CLAIM_WINDOW } : {}),
    ...(amount ? { amount } : {}),
    // Consent by card keeps the card; by Stars the invoice becomes a Stars subscription.
    ...(savePaymentMethod && (provider === 'yookassa' || provider === 'stars')
      ? { savePaymentMethod: true }
      : {}),
  };
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof purchaseWorkflow>(
    PURCHASE_WORKFLOW_TYPE,
    {
      workflowId,
      taskQueue: deps.config.PURCHASES_TASK_QUEUE ?? TASK_QUEUES.purchases,
      args: [input],
      workflowIdConflictPolicy: attach ? 'USE_EXISTING' : 'FAIL',
      ...(attach ? { workflowIdReusePolicy: 'REJECT_DUPLICATE' as const } : {}),
      staticSummary: purchaseSummary({
        amount: provider === 'stars' ? String(tariff.star_price) : (amount ?? String(tariff.price)),
        currency: provider === 'stars' ? 'XTR' : String(tariff.currency),
        tariffSlug: String(tariff.slug),
        telegramId: input.telegramId,
        username: user.username,
        purpose,
      }),
      typedSearchAttributes: [
        { key: SEARCH_ATTRIBUTES.TelegramId, value: input.telegramId },
        { key: SEARCH_ATTRIBUTES.PaymentId, value: paymentId },
        { key: SEARCH_ATTRIBUTES.PurchaseStage, value: 'CREATING_PAYMENT' },
        { key: SEARCH_ATTRIBUTES.StageEnteredAt, value: new Date() },
      ],
    },
  );
  const link = await withDeadline(
    deps.temporal.workflow.executeUpdateWithStart(paymentLinkUpdate, { startWorkflowOperation }),
    PAYMENT_LINK_WAIT_MS,
    startTimeout,
  ).catch((err: unknown) => {
    throw translateStartError(deps, err, workflowId);
  });
  return paymentBody(link, workflowId, provider);
}

function paymentBody(link: PaymentLink, workflowId: string, provider: Provider): PaymentCreated {
  return {
    payment_id: link.paymentId,
    confirmation_url: link.confirmationUrl,
    payment_status: link.status,
    amount: link.amount,
    currency: link.currency,
    created_at: link.createdAt,
    expires_at: link.expiresAt,
    workflow_id: workflowId,
    provider,
  };
}

export function translateStartError(
  deps: Pick<PurchaseDeps, 'logger'>,
  err: unknown,
  workflowId: string,
): Error {
  if (err instanceof HttpError) return err;
  if (grpcCodeInChain(err) === GRPC_FAILED_PRECONDITION) {
    // "Workflow Task in failed state": the new purchase's first task failed or timed out before it took
    // the update (a worker overloaded, killed or restarting; seen in test:deploy with a worker killed).
    // The purchase exists and a retry with the same Idempotency-Key reaches it: retryable, not a 500.
    deps.logger.warn({ workflowId, err }, 'purchase start not taken by the workflow yet');
    return startTimeout();
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new HttpError(
      409,
      'purchase_closed',
      'that purchase has already finished; start a new one (with a new Idempotency-Key)',
    );
  }
  const type = failureType(err);
  if (type === Failure.PaymentProviderUnavailable) {
    deps.logger.warn({ workflowId, err }, 'payment provider unavailable');
    return new HttpError(
      503,
      'payment_provider_unavailable',
      'the payment provider is not answering, try again later',
    );
  }
  if (type === Failure.InsufficientBalance) {
    return new HttpError(
      409,
      'insufficient_balance',
      'the balance does not cover this tariff; top it up or pay by card',
    );
  }
  if (type === Failure.PaymentRejected) {
    deps.logger.error({ workflowId, err }, 'payment provider rejected the payment');
    return new HttpError(502, 'payment_rejected', 'the payment provider refused to create the payment');
  }
  deps.logger.error({ workflowId, err }, 'could not start the purchase');
  return err instanceof Error ? err : new Error(String(err));
}

const startTimeout = () =>
  new HttpError(503, 'purchase_start_timeout', 'the purchase did not answer in time, try again');

const GRPC_FAILED_PRECONDITION = 9;

function grpcCodeInChain(err: unknown): number | undefined {
  for (let e = err, depth = 0; e && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export const findUser = (orm: MikroORM, telegramId: string) =>
  sqlOne<UserRow>(orm, `select * from users where telegram_id = ?`, [telegramId]);

export async function requireUser(orm: MikroORM, telegramId: string): Promise<UserRow> {
  const user = await findUser(orm, telegramId);
  if (!user) throw notFound('user_not_found', `no user with telegram_id ${telegramId}; register first`);
  return user;
}

/** Only active tariffs are for sale. */
export async function requireActiveTariff(
  orm: MikroORM,
  ref: { id?: number; slug?: string },
): Promise<TariffRow> {
  const tariff =
    ref.id !== undefined
      ? await sqlOne<TariffRow>(orm, `select * from tariffs where is_active and id = ?`, [ref.id])
      : await sqlOne<TariffRow>(orm, `select * from tariffs where is_active and slug = ?`, [ref.slug ?? '']);
  if (!tariff) throw notFound('tariff_not_found', 'no such tariff on sale');
  return tariff;
}
