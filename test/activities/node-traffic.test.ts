import assert from 'node:assert/strict';
import { createNodeActivities } from '../../activities/nodes';
import { loadAccess } from '../../infra/access';
import type { PurchaseResult } from '../../workflows/purchase';
import { PurchaseSystem } from '../support/system';
import { signalProviderState } from '../support/webhook';
import { httpGetViaSocks, startHttpTarget, startXrayClient } from '../support/xray';

describe('traffic accounting: bytes a user moves through the node reach their subscription', function () {
  this.timeout(120_000);
  const sys = new PurchaseSystem();
  before(async () => {
    await sys.start();
    await sys.startWorkers();
    await sys.createTariff('one-hour', 3600);
  });
  after(() => sys.stop());

  it('the health round copies the agent’s per-user totals into the subscription (for /sub userinfo)', async () => {
    const tg = 750_001;
    await sys.createUser(tg);
    const { link, handle, paymentId } = await sys.buy(tg, 'one-hour');
    sys.yookassa.pay(link.providerPaymentId!);
    await signalProviderState(sys, paymentId, link.providerPaymentId!);
    const result: PurchaseResult = await handle.result();
    const access = await loadAccess(sys.orm, result.subscriptionId!, 'http://vpn.test');

    const site = await startHttpTarget();
    const client = await startXrayClient(access!.vlessUrl); // configured only from the issued link
    try {
      const res = await httpGetViaSocks(client.socksPort, site.url('/slow?chunks=8&ms=10'), {
        timeoutMs: 15_000,
      });
      assert.equal(res.status, 200);
    } finally {
      await client.stop();
      await site.close();
    }

    await createNodeActivities({ orm: sys.orm }).checkNodes({ failuresToDown: 3 });
    const [sub] = await sys.orm.em
      .getConnection()
      .execute(`select upload_bytes, download_bytes from subscriptions where id = ?`, [
        result.subscriptionId,
      ]);
    assert.ok(Number(sub.download_bytes) >= 8 * 16 * 1024, `downloaded ${sub.download_bytes} bytes`);
    assert.ok(Number(sub.upload_bytes) > 0);
  });
});
