import { parseTelegramHtml } from './html';
import { ApiFailure, type Params } from './state';

/** Telegram's own checks on outgoing content, so tests fail where production would. */

export function checkKeyboard(markup: unknown): void {
  if (markup === undefined || markup === null) return;
  const rows = (markup as { inline_keyboard?: unknown }).inline_keyboard;
  if (rows === undefined) return; // reply keyboards / force_reply: not validated
  if (!Array.isArray(rows))
    throw new ApiFailure(400, 'Bad Request: field "inline_keyboard" must be an Array');
  for (const row of rows) {
    if (!Array.isArray(row))
      throw new ApiFailure(400, 'Bad Request: field "inline_keyboard" must be an Array of Array');
    for (const button of row as Array<Record<string, unknown>>) {
      if (typeof button?.text !== 'string' || button.text === '') {
        throw new ApiFailure(400, 'Bad Request: inline keyboard button text must be non-empty');
      }
      const data = button.callback_data;
      if (data !== undefined) {
        const bytes = Buffer.byteLength(String(data));
        if (bytes < 1 || bytes > 64) throw new ApiFailure(400, 'Bad Request: BUTTON_DATA_INVALID');
      } else if (button.url !== undefined) {
        let url: URL | undefined;
        try {
          url = new URL(String(button.url));
        } catch {}
        if (!url || !['http:', 'https:', 'tg:'].includes(url.protocol)) {
          throw new ApiFailure(400, `Bad Request: inline keyboard button URL '${button.url}' is invalid`);
        }
      } else if (button.pay !== true && button.web_app === undefined && button.login_url === undefined) {
        throw new ApiFailure(400, 'Bad Request: can\'t find field "callback_data"');
      }
    }
  }
}

/** Validates a text or caption with its parse_mode and returns what Telegram would store as plain text. */
export function checkText(params: Params, field: 'text' | 'caption', max: number): string | undefined {
  const raw = params[field];
  if (raw === undefined || raw === null) {
    if (field === 'text') throw new ApiFailure(400, 'Bad Request: message text is empty');
    return undefined;
  }
  const value = String(raw);
  const plain = params.parse_mode === 'HTML' ? parseTelegramHtml(value) : value;
  if (field === 'text' && plain.trim() === '')
    throw new ApiFailure(400, 'Bad Request: message text is empty');
  if (plain.length > max) {
    throw new ApiFailure(
      400,
      field === 'text' ? 'Bad Request: message is too long' : 'Bad Request: message caption is too long',
    );
  }
  return plain;
}

export interface InvoiceCheck {
  title: string;
  description: string;
  payload: string;
  currency: string;
  total: number;
}

/** sendInvoice rules, with the Stars (XTR) specifics: empty provider token and exactly one price item. */
export function checkInvoice(params: Params): InvoiceCheck {
  const title = String(params.title ?? '');
  const description = String(params.description ?? '');
  const payload = String(params.payload ?? '');
  const currency = String(params.currency ?? '');
  if (title.length < 1 || title.length > 32) throw new ApiFailure(400, 'Bad Request: INVOICE_TITLE_INVALID');
  if (description.length < 1 || description.length > 255) {
    throw new ApiFailure(400, 'Bad Request: INVOICE_DESCRIPTION_INVALID');
  }
  const payloadBytes = Buffer.byteLength(payload);
  if (payloadBytes < 1 || payloadBytes > 128)
    throw new ApiFailure(400, 'Bad Request: INVOICE_PAYLOAD_INVALID');
  if (!/^[A-Z]{3}$/.test(currency)) throw new ApiFailure(400, 'Bad Request: CURRENCY_INVALID');
  const prices = params.prices;
  if (!Array.isArray(prices) || prices.length === 0)
    throw new ApiFailure(400, 'Bad Request: prices must be non-empty');
  for (const price of prices as Array<{ label?: unknown; amount?: unknown }>) {
    if (typeof price?.label !== 'string' || !Number.isInteger(Number(price.amount))) {
      throw new ApiFailure(400, 'Bad Request: LabeledPrice must have a label and an integer amount');
    }
  }
  const total = (prices as Array<{ amount: number | string }>).reduce((sum, p) => sum + Number(p.amount), 0);
  if (currency === 'XTR') {
    if (params.provider_token !== undefined && params.provider_token !== '') {
      throw new ApiFailure(400, 'Bad Request: provider_token must be empty for payments in Telegram Stars');
    }
    if (prices.length !== 1) throw new ApiFailure(400, 'Bad Request: STARS_INVOICE_INVALID');
  }
  if (total <= 0) throw new ApiFailure(400, 'Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID');
  return { title, description, payload, currency, total };
}
