/**
 * The page behind `confirmation_url`: where a buyer (a human in `npm run dev`, or a test posting the
 * form) pays or gets declined, then is redirected to the shop's return_url like on YooKassa.
 */
import express, { type Request, type Response, type Router } from 'express';
import type { Ledger } from './emulator-ledger';
import { ApiError } from './emulator-validation';
import { CANCELLATION_REASONS, type Payment } from './types';

/** Reasons a bank or YooKassa gives when the buyer's attempt fails (merchant/expiry ones excluded). */
export const DECLINE_REASONS: readonly string[] = CANCELLATION_REASONS.filter(
  (r) => r !== 'canceled_by_merchant' && !r.startsWith('expired_'),
);

export function checkoutRouter(ledger: Ledger): Router {
  const router = express.Router();
  router.use(express.urlencoded({ extended: false }));

  router.get('/checkout/:id', (req: Request<{ id: string }>, res: Response) => {
    const payment = findPayment(ledger, req.params.id);
    if (!payment)
      return void res.status(404).type('html').send(page('Payment not found', '<p>No such payment.</p>'));
    res.type('html').send(renderPayment(payment, ledger.returnUrlOf(payment.id)));
  });

  router.post('/checkout/:id/pay', (req: Request<{ id: string }>, res: Response) => {
    act(res, ledger, req.params.id, () => ledger.pay(req.params.id));
  });

  router.post('/checkout/:id/decline', (req: Request<{ id: string }>, res: Response) => {
    const reason = typeof req.body?.reason === 'string' ? req.body.reason : 'insufficient_funds';
    if (!DECLINE_REASONS.includes(reason)) {
      return void res
        .status(400)
        .type('html')
        .send(page('Unknown reason', `<p>${escapeHtml(reason)}</p>`));
    }
    act(res, ledger, req.params.id, () => ledger.decline(req.params.id, reason));
  });

  return router;
}

function act(res: Response, ledger: Ledger, id: string, action: () => Payment): void {
  try {
    action();
    res.redirect(303, ledger.returnUrlOf(id));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    res
      .status(err.status)
      .type('html')
      .send(page('Payment not changed', `<p>${escapeHtml(err.message)}</p>`));
  }
}

function findPayment(ledger: Ledger, id: string): Payment | undefined {
  try {
    return ledger.getPayment(id);
  } catch {
    return undefined;
  }
}

function renderPayment(payment: Payment, returnUrl: string): string {
  const summary = `<p class="amount">${escapeHtml(payment.amount.value)} ${escapeHtml(payment.amount.currency)}</p>
<p>${escapeHtml(payment.description ?? '')}</p><p class="muted">Payment ${escapeHtml(payment.id)} (test mode)</p>`;
  if (payment.status !== 'pending') {
    const reason = payment.cancellation_details ? `: ${escapeHtml(payment.cancellation_details.reason)}` : '';
    return page(
      'Payment',
      `${summary}<p>Status: <b>${escapeHtml(payment.status)}</b>${reason}</p>
<p><a href="${escapeHtml(returnUrl)}">Return to the shop</a></p>`,
    );
  }
  const base = `/checkout/${encodeURIComponent(payment.id)}`;
  const options = DECLINE_REASONS.map((r) => `<option value="${r}">${r}</option>`).join('');
  return page(
    'Pay',
    `${summary}
<form method="post" action="${base}/pay"><button type="submit" class="pay">Pay</button></form>
<form method="post" action="${base}/decline">
  <select name="reason">${options}</select> <button type="submit">Decline</button>
</form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · YooKassa emulator</title>
<style>body{font-family:sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}.amount{font-size:2rem}
.muted{color:#777;font-size:.8rem}form{margin:1rem 0}button{padding:.5rem 1.5rem}.pay{background:#2a7;color:#fff;border:0}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
