import type { ApiDeps } from '../deps';
import type { RouteTable } from '../route-table';
import { errorBody } from '../schemas';
import { confirmStarsPayment, starsConfirmBody, starsConfirmed } from '../stars-confirm';

export function starsRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'post',
      path: '/api/v1/payments/stars/confirm',
      summary:
        "Telegram's successful_payment for a Stars invoice, forwarded by the bot (API_TOKEN only); the charge is checked with Telegram before access is granted",
      tag: 'bot',
      auth: 'api',
      body: starsConfirmBody,
      responses: {
        200: {
          description: 'Handed to the purchase, or (purchase closed) refunded automatically',
          schema: starsConfirmed,
        },
        404: { description: 'The payload names no payment', schema: errorBody },
        409: {
          description: 'The payment was already paid by another charge: this one is refunded automatically',
          schema: errorBody,
        },
        422: { description: 'Not a Stars payment, another user, or another amount', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      res.json(await confirmStarsPayment(deps, body));
    },
  );
}
