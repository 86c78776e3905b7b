import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AccessRow } from '../../infra/db/rows';
import { listedNodesOfAccess } from '../../infra/fleet/access-nodes';
import { accessViewFromRow } from '../../infra/subscription/access-view';
import { chooseFormat, SUBSCRIPTION_FORMATS } from '../../infra/subscription/choose-format';
import { languageFrom } from '../../infra/subscription/page-texts';
import { subscriptionPageUrl } from '../../infra/subscription/page-url';
import type { PageLanguage } from '../../infra/subscription/placeholder';
import { renderSubscription } from '../../infra/subscription/render';
import { ACCESS_SELECT, subscriptionUrl } from '../access';
import { sqlOne } from '../db';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { subDevice } from '../sub-device';
import type { RouteTable } from '../route-table';

const TOKEN = /^[\w-]{16,64}$/;

const HEADERS_DOC =
  'Headers on every format: subscription-userinfo (upload, download, total, expire; 0 = unlimited), ' +
  'profile-title (base64:…), profile-update-interval (hours, SUB_UPDATE_INTERVAL_HOURS), support-url, ' +
  'profile-web-page-url (the page), content-disposition (file name; inline for the page).';

export function subRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    {
      method: 'get',
      path: '/sub/:token',
      summary:
        'Subscription URL: sing-box JSON, Clash Meta YAML, base64 vless:// links, Xray JSON or the HTML page, ' +
        'chosen by User-Agent (README "Subscription URL") or ?format=',
      tag: 'public',
      auth: 'none',
      params: z.object({ token: z.string().max(256) }),
      query: z.object({
        format: z
          .enum(SUBSCRIPTION_FORMATS)
          .optional()
          .describe('Override the User-Agent choice: base64 | singbox | clash | xray | html'),
      }),
      responses: {
        200: {
          description:
            'base64 (text/plain): newline-separated vless:// links; singbox (application/json): a sing-box ' +
            'profile; clash (text/yaml): a mihomo profile; xray (application/json): an array of full Xray ' +
            'client configs; html (text/html): the subscription page. Expired or revoked access: one ' +
            `placeholder entry naming what happened and where to renew, expire in the past. ${HEADERS_DOC}`,
          contentType: 'text/plain',
          headers: {
            'subscription-userinfo':
              'upload=<bytes>; download=<bytes>; total=<bytes, 0 = unlimited>; expire=<unix s>',
            'profile-title': 'base64:<UTF-8 title in base64>',
            'profile-update-interval': 'hours between refreshes (SUB_UPDATE_INTERVAL_HOURS)',
            'support-url': 'SUPPORT_URL',
            'profile-web-page-url': 'the subscription page (this URL with ?format=html)',
            'content-disposition': 'attachment (inline for the page); filename and filename* (UTF-8)',
          },
        },
        404: { description: 'Unknown token' },
      },
    },
    async ({ params, query }, req, res) => {
      const row = TOKEN.test(params.token)
        ? await deps.reads.one<AccessRow>(`${ACCESS_SELECT} where s.subscription_token = $1`, [params.token])
        : undefined;
      if (!row) throw notFound('subscription_not_found');
      const url = subscriptionUrl(deps.config.PUBLIC_BASE_URL, params.token);
      const renewUrl = deps.config.BOT_USERNAME ? `https://t.me/${deps.config.BOT_USERNAME}` : undefined;
      const supportUrl = deps.config.SUPPORT_URL;
      const language = languageFrom(req.get('accept-language')) ?? userLanguage(row);
      const device = await subDevice(deps, row, req.get('x-hwid'), req.get('user-agent'), {
        os: req.get('x-device-os'),
        model: req.get('x-device-model'),
      });
      const view = accessViewFromRow(row, {
        now: new Date(),
        language,
        renewAt: renewUrl ?? supportUrl,
        ...device,
        // One entry per node the access is wanted on and that is up (ACCESS_NODES=location).
        listed:
          deps.config.ACCESS_NODES === 'location'
            ? await listedNodesOfAccess(deps.orm, row.id, 'location')
            : undefined,
      });
      const format = chooseFormat({
        format: query.format,
        userAgent: req.get('user-agent'),
        accept: req.get('accept'),
      });
      // An app fetching its config follows a node move by itself; a person viewing the page does not.
      // Written once: an app refreshing every few hours costs no write after its first fetch.
      if (format !== 'html' && !row.sub_fetched_at)
        await sqlOne(
          deps.orm,
          `update subscriptions set sub_fetched_at = now() where id = ? and sub_fetched_at is null returning id`,
          [row.id],
        );
      const { body, headers } = await renderSubscription(
        format,
        view,
        { subscriptionUrl: url, pageUrl: subscriptionPageUrl(url), supportUrl, renewUrl },
        {
          updateIntervalHours: deps.config.SUB_UPDATE_INTERVAL_HOURS,
          language,
          userAgent: req.get('user-agent'),
          nonce: randomBytes(16).toString('base64'),
        },
      );
      res.set(headers).send(body);
    },
  );
}

/** The language the user chose in the bot: placeholders speak it when the client sends no Accept-Language. */
function userLanguage(row: AccessRow): PageLanguage {
  return row.language === 'en' ? 'en' : 'ru';
}
