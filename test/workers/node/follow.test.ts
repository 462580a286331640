/**
 * The Durable Object light node against the devnet (inside workerd): it starts head-first from its
 * sources, follows the chain through its alarms, survives a throwing alarm run and an eviction (a new
 * instance over the same storage), backs off while its sources fail, and rejects and scores the lying
 * source in front of the honest one.
 */
import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { afterAll, describe, expect, it } from 'vitest';
import type { AlarmState } from '../../../workers/edge/node/alarm.js';
import { nextDelayMs } from '../../../workers/edge/node/alarm.js';
import type { AlysLightNode } from '../../../workers/edge/node/object.js';
import { control, nodeObject, setup, status, waitFor } from './helpers.js';

// the objects' nodes stop before the global teardown stops the devnet
afterAll(() => abortAllDurableObjects());

/** The object of these tests (a new stub each time: an eviction invalidates the old ones). */
const obj = () => nodeObject('follow');

const alarmState = () =>
  runInDurableObject(obj(), (_, state) => state.storage.get<AlarmState>('edge:alarm')) as Promise<
    AlarmState | undefined
  >;
const alarmAt = () => runInDurableObject(obj(), (_, state) => state.storage.getAlarm());
const headLog = () =>
  runInDurableObject(obj(), (_, state) =>
    state.storage.sql.exec('SELECT number, hash FROM edge_heads ORDER BY seq').toArray(),
  ) as Promise<Array<{ number: number; hash: string }>>;

/** Wait until the object's verified head is the devnet's tip (number and hash). */
async function atTip(): Promise<any> {
  const tip = await control('/head');
  return waitFor(async () => {
    const s = await status(obj());
    return s.head?.number === tip.number && s.head.hash === tip.hash ? s : undefined;
  }, `the object at the devnet tip ${tip.number}`);
}

describe('the Durable Object light node follows the devnet', () => {
  it('starts head-first on its first request, at the devnet tip; its alarm runs and re-arms', async () => {
    const s = await atTip();
    expect(s.starts).toEqual([expect.objectContaining({ kind: 'cold-start' })]);
    const ran = await waitFor(async () => {
      const a = await alarmState();
      return a?.lastRunAt ? a : undefined;
    }, 'the first alarm run');
    expect(ran).toMatchObject({ failures: 0, lastError: null });
    expect(await alarmAt()).not.toBeNull();
  });

  it('the lying source is rejected and scored below the honest one', async () => {
    const { sources } = await status(obj());
    const liar = sources.find((x: any) => x.id === setup().liar);
    const honest = sources.find((x: any) => x.id === setup().honest);
    expect(liar.faultsByKind.invalid).toBeGreaterThan(0);
    expect(honest.faults).toBe(0);
    expect(liar.score).toBeLessThan(honest.score);
  });

  it('follows new blocks', async () => {
    await control('/grow', { blocks: 3 });
    await runDurableObjectAlarm(obj());
    await atTip();
  });

  it('an alarm run that throws is retried: the alarm stays armed, nothing is imported twice', async () => {
    await runInDurableObject(obj(), (o: AlysLightNode) => {
      o.faults.alarmThrows = 1;
    });
    await control('/grow', { blocks: 2 });
    const thrown = await runDurableObjectAlarm(obj()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(thrown)).toMatch(/injected alarm fault/);
    expect(await alarmState()).toMatchObject({ failures: 1, lastError: 'injected alarm fault' });
    await waitFor(
      async () => (await runInDurableObject(obj(), (o: AlysLightNode) => o.faults.alarmThrows)) === 0,
      'the fault used',
    );
    expect(await alarmAt()).not.toBeNull();
    await runDurableObjectAlarm(obj());
    await atTip();
    expect(await alarmState()).toMatchObject({ failures: 0, lastError: null });
    const log = await headLog();
    const seen = log.map((h) => `${h.number}:${h.hash}`);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('an evicted object resumes from storage: a warm start, then it follows on', async () => {
    const before = await status(obj());
    await abortAllDurableObjects();
    await control('/grow', { blocks: 2 });
    expect(await runDurableObjectAlarm(obj())).toBe(true);
    const s = await atTip();
    expect(s.starts.map((x: any) => x.kind)).toEqual(['cold-start', 'warm-start']);
    expect(s.starts[1].head).toBeGreaterThanOrEqual(before.head.number);
    expect(s.historyFrom).toBe(before.historyFrom);
  });

  it('backs off while every source fails, and recovers', async () => {
    await control('/honest', { failing: true });
    try {
      await control('/grow', { blocks: 1 });
      await runDurableObjectAlarm(obj());
      const first = await alarmState();
      await runDurableObjectAlarm(obj());
      const second = await alarmState();
      expect(second!.failures).toBe(first!.failures + 1);
      expect(second!.nextAt! - second!.lastRunAt!).toBe(nextDelayMs(second!.failures));
      expect(nextDelayMs(second!.failures)).toBeGreaterThan(nextDelayMs(first!.failures));
    } finally {
      await control('/honest', { failing: false });
    }
    await runDurableObjectAlarm(obj());
    await atTip();
    await runDurableObjectAlarm(obj());
    expect(await alarmState()).toMatchObject({ failures: 0, lastError: null });
  });
});
