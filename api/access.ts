import type { AccessRow } from '../infra/db/rows';

export { ACCESS_SELECT, subscriptionUrl, vlessLinkFor } from '../infra/access';

/** Active and not yet past its end (the revoke may lag the deadline by a moment). */
export const isLive = (row: Pick<AccessRow, 'status' | 'expires_at'>, now = new Date()) =>
  row.status === 'active' && new Date(row.expires_at) > now;
