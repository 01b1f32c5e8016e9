import { Hono } from "hono";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { Room } from "./room";

export { Room };

type Bindings = {
  ROOMS: DurableObjectNamespace<Room>;
  ROOM_LIMIT: string;
};

const app = new Hono<{ Bindings: Bindings }>();

app.use("/api/*", cors({ origin: "https://example.com" }));
app.use("*", async (c, next) => {
  await next();
  c.header("x-app", "hono-app");
});

app.get("/", (c) => c.text("Hello Hono!"));

app.get("/api/rooms/:room/messages", async (c) => {
  const limit = Number(c.req.query("limit") ?? c.env.ROOM_LIMIT);
  const messages = await c.env.ROOMS.getByName(c.req.param("room")).list(limit);
  return c.json({ room: c.req.param("room"), messages });
});

app.post("/api/rooms/:room/messages", async (c) => {
  const body = await c.req.json<{ author?: unknown; text?: unknown }>().catch(() => null);
  if (!body || typeof body.author !== "string" || typeof body.text !== "string") {
    throw new HTTPException(400, { message: "author and text must be strings" });
  }
  const message = await c.env.ROOMS.getByName(c.req.param("room")).post(body.author, body.text);
  return c.json(message, 201);
});

app.delete("/api/rooms/:room", async (c) => {
  const deleted = await c.env.ROOMS.getByName(c.req.param("room")).clear();
  return c.json({ deleted });
});

app.get("/boom", () => {
  throw new Error("route failed");
});

app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));

app.onError((err, c) => {
  if (err instanceof HTTPException) return c.json({ error: err.message }, err.status);
  return c.json({ error: "internal", message: err.message }, 500);
});

export default app;
