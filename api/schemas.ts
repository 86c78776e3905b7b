import { z } from 'zod';
import type { PurchaseStage } from '../workflows/purchase-messages';

/** Telegram ids exceed 2^31 but fit in 52 bits (Telegram says so): accepted as number or digits, kept as a string
 * for bigint columns, and answered as numbers. */
const safeDigits = (v: string) => /^[1-9]\d{0,15}$/.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER;

export const telegramId = z
  .union([z.number().int().positive().max(Number.MAX_SAFE_INTEGER), z.string().refine(safeDigits)], {
    errorMap: () => ({ message: 'must be a positive integer Telegram id' }),
  })
  .transform(String);

// Beyond 2^53 − 1 an id could not be answered as a JSON number without losing digits: refused.
export const telegramIdParam = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, 'must be a positive integer Telegram id')
  .refine(safeDigits, 'must be a positive integer Telegram id');
export const uuid = (what: string) => z.string().uuid(`must be a ${what} (uuid)`);
export const paymentIdParams = z.object({ payment_id: uuid('payment id') });
export const telegramIdParams = z.object({ telegram_id: telegramIdParam });
export const numericIdParams = z.object({
  id: z.coerce.number().int().positive('must be a positive integer id'),
});
export const nodeIdParams = z.object({ id: uuid('node id') });

/** "199", "199.5", "199.00" or 199.5 → "199.00"; more than two decimals is refused, never rounded. */
export const price = z
  .union([z.string().max(32), z.number()], {
    errorMap: () => ({ message: 'must be a decimal amount like "199.00"' }),
  })
  .transform((v, ctx) => {
    const text = typeof v === 'number' ? String(v) : v.trim();
    const m = /^(\d{1,10})(?:\.(\d{1,2}))?$/.exec(text);
    if (!m || Number(text) <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be a positive amount with at most 2 decimals, e.g. "199.00"',
      });
      return z.NEVER;
    }
    return `${m[1].replace(/^0+(?=\d)/, '')}.${(m[2] ?? '').padEnd(2, '0')}`;
  });

export const currency = z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO currency code such as RUB');
export const provider = z.enum(['yookassa', 'stars', 'balance'], {
  errorMap: () => ({ message: 'must be "yookassa", "stars" or "balance"' }),
});

/** Every stage of the purchase workflow; the Record makes the compiler insist the list is complete. */
const STAGE_SET: Record<PurchaseStage, true> = {
  CREATING_PAYMENT: true,
  AWAITING_PAYMENT: true,
  PROVISIONING: true,
  NOTIFYING: true,
  COMPLETED: true,
  CANCELED: true,
  EXPIRED: true,
  REFUNDING: true,
  REFUNDED: true,
  FAILED: true,
};
export const PURCHASE_STAGES = Object.keys(STAGE_SET) as [PurchaseStage, ...PurchaseStage[]];

/** An optional query value where `?name=` (empty) means "not given", as a schema without minLength allows. */
export const blankIsAbsent = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema);

export const errorBody = z.object({
  error: z.string(),
  field: z.string().optional(),
  message: z.string().optional(),
});

export const isoDate = z.string().datetime({ offset: true });

/** A tariff named by id: a positive integer, or its digits as a string (bot callbacks carry strings). */
export const tariffIdField = z.union(
  [
    z.number().int().positive(),
    z
      .string()
      .regex(/^[1-9]\d{0,9}$/)
      .transform(Number),
  ],
  { errorMap: () => ({ message: 'must be a positive integer tariff id' }) },
);
