// A token bucket per client: each request takes a token; an alarm puts tokens back.
// Name one object per client (RATE_LIMITER/<client id>); every call on it is serialized,
// so two requests can never spend the same token.

const CAPACITY = 5;         // a full bucket
const REFILL_EVERY = 1000;  // ms between refills
const REFILL_BY = 1;        // tokens added per refill

class RateLimiter {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  tokens() {
    const stored = this.state.storage.get("tokens");
    return stored === undefined ? CAPACITY : stored;
  }

  // RPC: try to take one token. Starts the refill alarm when the bucket is no longer full.
  take() {
    const tokens = this.tokens();
    if (tokens === 0) {
      const retryAfterMs = this.state.storage.getAlarm() - Date.now();
      return { allowed: false, remaining: 0, retryAfterMs };
    }
    this.state.storage.put("tokens", tokens - 1);
    if (this.state.storage.getAlarm() === undefined) {
      this.state.storage.setAlarm(Date.now() + REFILL_EVERY);
    }
    return { allowed: true, remaining: tokens - 1 };
  }

  // The refill: add tokens, and re-arm until the bucket is full again.
  alarm() {
    const tokens = Math.min(CAPACITY, this.tokens() + REFILL_BY);
    this.state.storage.put("tokens", tokens);
    if (tokens < CAPACITY) {
      this.state.storage.setAlarm(Date.now() + REFILL_EVERY);
    }
  }

  // GET /  -> 200 with the tokens left, or 429 with retry-after (seconds) when empty.
  fetch(req) {
    const verdict = this.take();
    if (verdict.allowed) {
      return { status: 200, headers: { "x-ratelimit-remaining": String(verdict.remaining) }, body: "ok\n" };
    }
    return {
      status: 429,
      headers: { "retry-after": String(Math.ceil(verdict.retryAfterMs / 1000)) },
      body: "too many requests\n",
    };
  }
}

exports.objects = { RateLimiter };
