// Helpers imported by the entry as "./util" (no extension), the way TypeScript projects do.
export type Step = number;

export class BadRequest extends Error {
  readonly status = 400;
}

/** Parses `?by=N`: a whole number from 1 to max (default 1). */
export function parseStep(raw: string | null, max: number): Step {
  if (raw === null) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new BadRequest(`by must be a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

export function describe(value: unknown): { type: string; value: unknown } {
  return { type: value === null ? "null" : typeof value, value };
}
