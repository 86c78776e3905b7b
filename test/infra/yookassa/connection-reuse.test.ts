import assert from 'node:assert/strict';
import net from 'node:net';
import { createYooKassaClient } from '../../../infra/yookassa/client';
import { type YooKassaEmulator, startYooKassaEmulator } from '../../../infra/yookassa/emulator';

// Each new connection to YooKassa is a TCP + TLS handshake before the call: the client must reuse its
// connections (fetch's keep-alive pool), or every payment link and poll pays that price again.
describe('YooKassa client: connection reuse', () => {
  let emu: YooKassaEmulator;
  let proxy: net.Server;
  let connections = 0;
  let url: string;

  before(async () => {
    emu = await startYooKassaEmulator({ shopId: '1', secretKey: 'test_reuse' });
    const target = new URL(emu.url);
    // A TCP relay in front of the emulator counts the connections the client opens.
    proxy = net.createServer((socket) => {
      connections++;
      const upstream = net.connect(Number(target.port), target.hostname);
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}${target.pathname}`;
  });
  after(async () => {
    proxy.close();
    await emu.close();
  });

  it('30 calls one after another travel over one kept-alive connection', async () => {
    const client = createYooKassaClient({
      apiUrl: url,
      shopId: '1',
      secretKey: 'test_reuse',
      returnUrl: 'http://x',
    });
    const payment = await client.createPayment({
      idempotenceKey: 'reuse-1',
      amount: '10.00',
      currency: 'RUB',
      description: 'reuse',
      metadata: {},
    });
    const before = connections;
    for (let i = 0; i < 30; i++) assert.equal((await client.getPayment(payment.id)).id, payment.id);
    assert.ok(connections - before <= 1, `${connections - before} new connections for 30 sequential calls`);
  });
});
