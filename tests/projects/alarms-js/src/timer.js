import { DurableObject } from "cloudflare:workers";

// Alarms: schedule, cancel, re-arm from the handler, fail once to see the retry.
export class Timer extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    // Nothing else enters the object until this settles, even with a timer awaited inside.
    ctx.blockConcurrencyWhile(async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.boots = ((await ctx.storage.get("boots")) ?? 0) + 1;
      await ctx.storage.put("boots", this.boots);
      this.ready = true;
    });
  }

  boot() {
    return { ready: this.ready, boots: this.boots };
  }

  async schedule(ms, mode = {}) {
    const at = Date.now() + ms;
    await this.ctx.storage.put("mode", { failOnce: !!mode.failOnce, repeat: mode.repeat ?? 1, label: this.ctx.id.name });
    await this.ctx.storage.setAlarm(at);
    const pending = await this.ctx.storage.getAlarm();
    return { pendingIsNumber: typeof pending === "number", pendingMinusRequested: pending - at };
  }

  async cancel() {
    const before = await this.ctx.storage.getAlarm();
    const result = await this.ctx.storage.deleteAlarm();
    return { hadAlarm: before !== null, deleteAlarmReturned: result === undefined ? "undefined" : result, after: await this.ctx.storage.getAlarm() };
  }

  async status() {
    const [fired, attempts, last] = await Promise.all(
      ["fired", "attempts", "last"].map((k) => this.ctx.storage.get(k)),
    );
    return { fired: fired ?? 0, attempts: attempts ?? [], last: last ?? null, alarmPending: (await this.ctx.storage.getAlarm()) !== null };
  }

  async setAlarmEdgeCases() {
    const s = this.ctx.storage;
    const attempt = async (f) => {
      try { const v = await f(); return { ok: v === undefined ? "undefined" : v }; } catch (e) { return { error: { name: e.name, message: e.message } }; }
    };
    const now = Date.now();
    return {
      "setAlarm(0)": await attempt(() => s.setAlarm(0)),
      "setAlarm(-1)": await attempt(() => s.setAlarm(-1)),
      "setAlarm('soon')": await attempt(() => s.setAlarm("soon")),
      "setAlarm(NaN)": await attempt(() => s.setAlarm(NaN)),
      "setAlarm(Date) then getAlarm() - time": await attempt(async () => {
        await s.setAlarm(new Date(now + 3_600_000));
        return (await s.getAlarm()) - now;
      }),
      "setAlarm(time + 0.7) then getAlarm() - time": await attempt(async () => {
        await s.setAlarm(now + 3_600_000.7);
        return (await s.getAlarm()) - now;
      }),
      "setAlarm twice: the second wins": await attempt(async () => {
        await s.setAlarm(now + 7_200_000);
        await s.setAlarm(now + 3_600_000);
        return (await s.getAlarm()) - now;
      }),
      "deleteAlarm()": await attempt(() => s.deleteAlarm()),
      "getAlarm() after": await attempt(() => s.getAlarm()),
    };
  }

  async alarm(info) {
    const s = this.ctx.storage;
    const mode = (await s.get("mode")) ?? {};
    const attempts = (await s.get("attempts")) ?? [];
    const seen = {
      retryCount: info?.retryCount,
      isRetry: info?.isRetry,
      infoKeys: Object.keys(info ?? {}).sort(),
      scheduledTimeType: typeof info?.scheduledTime,
      getAlarmInside: await s.getAlarm(),
      idName: this.ctx.id.name ?? "undefined",
    };
    attempts.push(seen);
    await s.put("attempts", attempts);
    if (mode.failOnce && !info?.isRetry) throw new Error("failing once on purpose");
    const fired = ((await s.get("fired")) ?? 0) + 1;
    await s.put({ fired, last: seen });
    await this.env.LEDGER.getByName("audit").append(`alarm ${fired} fired`);
    // reported without touching this object, so that an alarm that wakes it is observable
    await this.env.LEDGER.getByName(`alarms-of-${mode.label}`).append({ fired, idName: seen.idName });
    if (fired < (mode.repeat ?? 1)) await s.setAlarm(Date.now() + 50);
  }

  whoami() {
    const id = this.ctx.id;
    return { idString: id.toString(), name: id.name ?? "undefined", length: id.toString().length };
  }

  // A call chain across namespaces: this object calls a Ledger, which calls back another Timer.
  async relay(ledger, message) {
    const entries = await this.env.LEDGER.getByName(ledger).append(`${this.ctx.id.name}: ${message}`);
    const echo = await this.env.LEDGER.getByName(ledger).askTimer(`${this.ctx.id.name}-peer`);
    return { entries, echo };
  }
}
