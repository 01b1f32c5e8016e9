// The soak test's object: RPC increments, a fetch view, and alarms that count themselves.
class Soak {
  constructor(state) { this.state = state; }
  increment() {
    const next = (this.state.storage.get("count") || 0) + 1;
    this.state.storage.put("count", next);
    return next;
  }
  arm(ms) {
    if (this.state.storage.getAlarm() === undefined) this.state.storage.setAlarm(Date.now() + ms);
    return this.state.storage.get("alarms") || 0;
  }
  alarm() { this.state.storage.put("alarms", (this.state.storage.get("alarms") || 0) + 1); }
  fetch(req) { return { body: String(this.state.storage.get("count") || 0) }; }
}
exports.objects = { Soak };
