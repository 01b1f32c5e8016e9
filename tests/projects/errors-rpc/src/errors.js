// Error classes shared by the object that throws them and the Worker that catches them.
export class MyError extends Error {
  constructor(message) {
    super(message);
    this.name = "MyError";
    this.code = "E_MINE";
    this.details = { retry: false, limit: 3 };
  }
}

// A subclass that keeps the default name ("Error").
export class QuietError extends Error {}
