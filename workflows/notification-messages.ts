import type { ReferralGiftKind } from './gift-messages';

// What a workflow asks the telegram queue to tell a user: shared by workflows, activities and tests.

/** One message to one user; its kind picks the text. */
export interface Notification {
  kind:
    | 'activated'
    | 'extended'
    | 'payment_failed'
    | 'payment_expired'
    | 'reminder'
    | 'expired'
    | 'refunded'
    | ReferralGiftKind
    | 'balance_topped_up'
    | 'traffic_exhausted'
    | 'traffic_restored'
    | 'traffic_pack_added'
    | 'node_moved'
    | 'auto_renewed'
    | 'auto_renew_failed';
  telegramId: string;
  language: string;
  paymentId?: string;
  subscriptionId?: string;
  reason?: string | null;
  expiresAt?: string;
  /** Reminders only: which REMIND_BEFORE offset this is, so `72h,24h` sends two messages, each once. */
  remindBeforeMs?: number;
  /** An operator's "resend key": a new message, deduped on its own (workflows/admin-actions.ts). */
  resendId?: string;
  /** balance_topped_up: what was credited and the balance after it. */
  amount?: string;
  balance?: string;
  /** Quota notices (workflows/quota.ts): the quota_notices row, so each suspension/reset is told once. */
  noticeId?: string;
  /** node_moved: the drained node the access left (one message per access and drain). */
  fromNodeId?: string;
}
