import assert from 'node:assert/strict';
import { ChatQueues } from '../../bot/chat-queues';

/** A task that runs until the test lets it finish, and says when it started. */
function gate() {
  let open = () => {};
  let started = () => {};
  const startedP = new Promise<void>((r) => {
    started = r;
  });
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return {
    started: startedP,
    open,
    task: (name: string, trace: string[]) => async () => {
      trace.push(`start ${name}`);
      started();
      await opened;
      trace.push(`end ${name}`);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('bot: ChatQueues (per-chat order, bounded cross-chat concurrency)', () => {
  it('runs one chat’s tasks in order, the next only after the previous finished', async () => {
    const q = new ChatQueues(10, (err) => assert.fail(String(err)));
    const trace: string[] = [];
    const first = gate();
    q.push('chat:1', first.task('a1', trace));
    q.push('chat:1', async () => void trace.push('a2'));
    await first.started;
    await tick();
    assert.deepEqual(trace, ['start a1']);
    first.open();
    await q.idle();
    assert.deepEqual(trace, ['start a1', 'end a1', 'a2']);
  });

  it('runs other chats meanwhile, at most `concurrency` at once; keyless tasks ignore the bound', async () => {
    const q = new ChatQueues(2, (err) => assert.fail(String(err)));
    const trace: string[] = [];
    const [g1, g2] = [gate(), gate()];
    q.push('chat:1', g1.task('c1', trace));
    q.push('chat:2', g2.task('c2', trace));
    const third = q.push('chat:3', async () => void trace.push('c3'));
    await q.push(undefined, async () => void trace.push('pre-checkout'));
    await Promise.all([g1.started, g2.started]);
    await tick();
    assert.deepEqual(trace.sort(), ['pre-checkout', 'start c1', 'start c2'], 'chat 3 waits for a slot');
    assert.equal(q.size, 3);
    g2.open();
    await third;
    assert.deepEqual(trace.slice(3), ['end c2', 'c3']);
    g1.open();
    await q.idle();
    assert.equal(q.size, 0);
  });

  it('a failing task is reported and does not stop its chat’s line', async () => {
    const errors: unknown[] = [];
    const q = new ChatQueues(1, (err) => errors.push(err));
    const trace: string[] = [];
    q.push('chat:1', async () => {
      throw new Error('boom');
    });
    q.push('chat:1', async () => void trace.push('next'));
    await q.idle();
    assert.deepEqual(trace, ['next']);
    assert.equal((errors[0] as Error).message, 'boom');
  });
});
