import { DurableObject } from "cloudflare:workers";

// A plain append-only log, called by Timers; it has no alarm() handler.
export class Ledger extends DurableObject {
  async append(entry) {
    const entries = (await this.ctx.storage.get("entries")) ?? [];
    entries.push(entry);
    await this.ctx.storage.put("entries", entries);
    return entries;
  }

  whoami() {
    return { name: this.ctx.id.name ?? "undefined" };
  }

  async entries() {
    return (await this.ctx.storage.get("entries")) ?? [];
  }

  async askTimer(name) {
    return this.env.TIMER.getByName(name).whoami().then((w) => ({ name: w.name, askedBy: this.ctx.id.name }));
  }

  async setAlarmWithoutHandler() {
    try {
      await this.ctx.storage.setAlarm(Date.now() + 60_000);
      return { ok: true, pending: (await this.ctx.storage.getAlarm()) !== null };
    } catch (e) {
      return { error: { name: e.name, message: e.message } };
    }
  }
}
