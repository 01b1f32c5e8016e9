import { DurableObject } from "cloudflare:workers";

// One user's pending reminders. The earliest one sets the object's alarm; when it fires,
// every reminder that is due goes to the user's inbox (another object, through its stub).
export class Reminders extends DurableObject {
  async remind(user, text, inSeconds) {
    const due = Date.now() + inSeconds * 1000;
    const pending = (await this.ctx.storage.get("pending")) ?? [];
    pending.push({ due, text });
    pending.sort((a, b) => a.due - b.due);
    await this.ctx.storage.put({ pending, user });
    await this.ctx.storage.setAlarm(pending[0].due);
    return { due: new Date(due).toISOString(), pending: pending.length };
  }

  async alarm() {
    const pending = (await this.ctx.storage.get("pending")) ?? [];
    const user = await this.ctx.storage.get("user");
    const now = Date.now();
    const due = pending.filter((r) => r.due <= now);
    const later = pending.filter((r) => r.due > now);
    for (const r of due) await this.env.INBOX.getByName(user).deliver(r.text, new Date(r.due));
    await this.ctx.storage.put("pending", later);
    if (later.length) await this.ctx.storage.setAlarm(later[0].due);
    console.log(`delivered ${due.length}, ${later.length} still pending`);
  }
}

// A user's inbox: messages in arrival order, each with the time it was due.
export class Inbox extends DurableObject {
  async deliver(text, due) {
    const messages = (await this.ctx.storage.get("messages")) ?? [];
    messages.push({ text, due });
    await this.ctx.storage.put("messages", messages);
    return messages.length;
  }

  async read() {
    return (await this.ctx.storage.get("messages")) ?? [];
  }
}

// POST /remind/:user?in=SECONDS with the text as body; GET /inbox/:user.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, route, user] = url.pathname.split("/");
    if (route === "remind" && user && request.method === "POST") {
      const seconds = Number(url.searchParams.get("in") ?? "60");
      const text = await request.text();
      return Response.json(await env.REMINDERS.getByName(user).remind(user, text, seconds));
    }
    if (route === "inbox" && user) return Response.json(await env.INBOX.getByName(user).read());
    return new Response("try POST /remind/:user?in=5 or GET /inbox/:user", { status: 404 });
  },
};
