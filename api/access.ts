import type { Row } from './db';

export { ACCESS_SELECT, subscriptionUrl, vlessLinkFor } from '../infra/access';

/** Active and not yet past its end (the revoke may lag the deadline by a moment). */
export const isLive = (row: Row, now = new Date()) =>
  row.status === 'active' && new Date(row.expires_at) > now;
