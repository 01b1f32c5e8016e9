// A chat room per object: POST /messages appends, GET /messages?since=N reads the history.
// Messages are stored one per key, "msg:" + a zero-padded sequence number, so that the
// key order is the posting order and `storage.list({prefix, start})` reads a page of them.

const PAGE = 50;

function messageKey(seq) {
  return "msg:" + String(seq).padStart(12, "0");
}

function queryParam(query, name) {
  for (const part of query.split("&")) {
    const [key, value = ""] = part.split("=");
    if (decodeURIComponent(key) === name) return decodeURIComponent(value.replace(/\+/g, " "));
  }
  return undefined;
}

function json(status, body) {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

class ChatRoom {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  // RPC: post a message, get back the stored message with its sequence number.
  post(user, text) {
    if (typeof user !== "string" || !user || typeof text !== "string" || !text) {
      throw new TypeError("post(user, text) needs two non-empty strings");
    }
    const seq = (this.state.storage.get("seq") || 0) + 1;
    const message = { seq, user, text, at: new Date().toISOString() };
    this.state.storage.put("seq", seq);
    this.state.storage.put(messageKey(seq), message);
    return message;
  }

  // RPC: the messages after `since` (a sequence number), oldest first, at most one page.
  history(since = 0, limit = PAGE) {
    const page = this.state.storage.list({
      prefix: "msg:",
      start: messageKey(since + 1),
      limit: Math.min(limit, PAGE),
    });
    return Object.values(page);
  }

  async fetch(req) {
    if (req.path !== "/messages") return json(404, { error: `no route ${req.path}` });
    if (req.method === "POST") {
      let body;
      try {
        body = await req.json();  // like a Request: text() and json() return Promises
      } catch (err) {
        return json(400, { error: "the body must be JSON: {\"user\": ..., \"text\": ...}" });
      }
      try {
        return json(201, this.post(body.user, body.text));
      } catch (err) {
        return json(400, { error: err.message });
      }
    }
    if (req.method === "GET") {
      const since = Number(queryParam(req.query, "since") || 0);
      if (!Number.isInteger(since) || since < 0) {
        return json(400, { error: "since must be a message number (0 or more)" });
      }
      return json(200, { messages: this.history(since) });
    }
    return json(405, { error: `${req.method} is not allowed on /messages` });
  }
}

exports.objects = { ChatRoom };
