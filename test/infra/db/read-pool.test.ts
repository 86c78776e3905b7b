import assert from 'node:assert/strict';
import { ACCESS_SELECT } from '../../../infra/access';
import { openReadPool } from '../../../infra/db/read-pool';
import { sqlOne } from '../../../api/db';
import { freshDatabase } from '../../support/services';
import { insertNode, insertPayment, insertSubscription, insertTariff, insertUser } from '../../api/fixtures';

describe('read pool (the webhook redelivery check and /sub)', () => {
  it('reads a subscription and a payment exactly as the ORM does: same columns, same types, same values', async () => {
    const { orm } = await freshDatabase();
    const reads = openReadPool(orm);
    try {
      const user = await insertUser(orm, 4_200_001);
      const tariff = await insertTariff(orm, { price: '249.50' });
      const node = await insertNode(orm);
      const sub = await insertSubscription(orm, {
        userId: user.id,
        tariffId: tariff.id,
        nodeId: node.id,
        expiresAt: new Date('2027-01-02T03:04:05.678Z'),
      });
      await insertPayment(orm, {
        userId: user.id,
        tariffId: tariff.id,
        providerPaymentId: 'yk-read-pool-1',
        amount: '249.50',
        status: 'succeeded',
      });

      const access = `${ACCESS_SELECT} where s.subscription_token = `;
      const viaOrm = await sqlOne(orm, `${access}?`, [sub.subscription_token]);
      const viaReads = await reads.one(`${access}$1`, [sub.subscription_token]);
      assert.ok(viaOrm, 'the subscription is found');
      assert.deepEqual(viaReads, viaOrm);
      // The renderers rely on these shapes (timestamps and bigints as strings, a count as a number).
      assert.equal(typeof viaReads?.expires_at, 'string');
      assert.equal(typeof viaReads?.upload_bytes, 'string');
      assert.equal(typeof viaReads?.added_devices, 'number');

      const payment = `select id, amount, currency, status from payments where provider_payment_id = `;
      assert.deepEqual(
        await reads.one(`${payment}$1`, ['yk-read-pool-1']),
        await sqlOne(orm, `${payment}?`, ['yk-read-pool-1']),
      );
      assert.equal(await reads.one(`${payment}$1`, ['yk-unknown']), undefined, 'no row: undefined');
    } finally {
      await reads.close();
    }
  });
});
