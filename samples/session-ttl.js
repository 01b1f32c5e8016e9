// A login session that expires after 30 minutes without activity.
// `touch()` only records the time of the last activity; the alarm does the expiring:
// when it fires too early (the session was used since) it re-arms itself for the new
// deadline, and when the session really is idle it deletes everything.

const TTL = 30 * 60 * 1000;

class Session {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  // RPC: start the session with some data; the first deadline is TTL from now.
  login(user, data = {}) {
    const now = Date.now();
    this.state.storage.put("session", { user, data, createdAt: now });
    this.state.storage.put("lastSeen", now);
    this.state.storage.setAlarm(now + TTL);
    return { user, expiresAt: new Date(now + TTL).toISOString() };
  }

  // RPC: the session's data while it lives (and that counts as activity), else null.
  touch() {
    const session = this.state.storage.get("session");
    if (session === undefined) return null;
    this.state.storage.put("lastSeen", Date.now());
    return session;
  }

  // RPC: end the session now.
  logout() {
    const existed = this.state.storage.get("session") !== undefined;
    this.state.storage.deleteAll();
    return existed;
  }

  alarm() {
    const lastSeen = this.state.storage.get("lastSeen");
    if (lastSeen === undefined) return;
    const deadline = lastSeen + TTL;
    if (Date.now() >= deadline) {
      console.log("expired session of", this.state.storage.get("session").user);
      this.state.storage.deleteAll();
    } else {
      this.state.storage.setAlarm(deadline);
    }
  }
}

exports.objects = { Session };
