// DOM basics of the web platform as workerd has them: DOMException, Event, EventTarget,
// AbortController and AbortSignal. Comes first among the web files: it also adds the helpers
// they share to `internal` (webGlobal, domError, iterators like workerd's).
//
// As measured on workerd: a listener that throws stops the dispatch and the error leaves
// dispatchEvent(); capture listeners are refused; `onabort` runs before abort listeners.
(function (internal) {
  "use strict";
  const { TOKEN } = internal;

  // Web globals are writable, configurable and not enumerable, as WebIDL makes them.
  function webGlobal(name, value) {
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
  function hide(proto, tag) {
    Object.defineProperty(proto, Symbol.toStringTag, { value: tag, configurable: true });
  }
  const needNew = (what) => new TypeError("Failed to construct '" + what + "': Please use the 'new' operator, this object constructor cannot be called as a function.");
  const notOfType = (fn, on, n, type) => new TypeError("Failed to execute '" + fn + "' on '" + on + "': parameter " + n + " is not of type '" + type + "'.");

  // Iterators over a snapshot of entries, named as workerd names them (EntryIterator, ...).
  const iteratorPrototypes = {};
  for (const kind of ["Entry", "Key", "Value"]) {
    const proto = Object.create(Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
    proto.next = function next() { return this._it.next(); };
    hide(proto, kind + "Iterator");
    iteratorPrototypes[kind] = proto;
  }
  function snapshotIterator(kind, items) {
    const it = Object.create(iteratorPrototypes[kind]);
    Object.defineProperty(it, "_it", { value: items[Symbol.iterator]() });
    return it;
  }

  const CODES = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
    QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };
  const LEGACY = [
    "INDEX_SIZE_ERR", "DOMSTRING_SIZE_ERR", "HIERARCHY_REQUEST_ERR", "WRONG_DOCUMENT_ERR",
    "INVALID_CHARACTER_ERR", "NO_DATA_ALLOWED_ERR", "NO_MODIFICATION_ALLOWED_ERR", "NOT_FOUND_ERR",
    "NOT_SUPPORTED_ERR", "INUSE_ATTRIBUTE_ERR", "INVALID_STATE_ERR", "SYNTAX_ERR",
    "INVALID_MODIFICATION_ERR", "NAMESPACE_ERR", "INVALID_ACCESS_ERR", "VALIDATION_ERR",
    "TYPE_MISMATCH_ERR", "SECURITY_ERR", "NETWORK_ERR", "ABORT_ERR", "URL_MISMATCH_ERR",
    "QUOTA_EXCEEDED_ERR", "TIMEOUT_ERR", "INVALID_NODE_TYPE_ERR", "DATA_CLONE_ERR",
  ];

  class DOMException extends Error {
    constructor(message = "", name = "Error") {
      if (!new.target) throw needNew("DOMException");
      super(String(message));
      const own = (k, v) => Object.defineProperty(this, k, { value: v, writable: true, configurable: true });
      own("message", String(message));
      own("name", String(name));
      own("code", CODES[String(name)] || 0);
    }
  }
  hide(DOMException.prototype, "DOMException");
  LEGACY.forEach((k, i) => {
    const d = { value: i + 1, enumerable: true };
    Object.defineProperty(DOMException, k, d);
    Object.defineProperty(DOMException.prototype, k, d);
  });
  const domError = (message, name) => new DOMException(message, name);

  // ---- Event
  let eventState;                    // (event) -> its private state, for EventTarget
  class Event {
    #s;
    constructor(type, init) {
      if (!new.target) throw needNew("Event");
      if (arguments.length < 1) throw new TypeError("Failed to construct 'Event': constructor parameter 1 is not of type 'string'.");
      const o = init == null ? {} : init;
      this.#s = {
        type: String(type), bubbles: !!o.bubbles, cancelable: !!o.cancelable, composed: !!o.composed,
        canceled: false, prevented: false, stop: false, stopNow: false, target: undefined, current: undefined,
        phase: 0, dispatching: false,
      };
    }
    static { eventState = (e) => e.#s; }
    get type() { return this.#s.type; }
    get bubbles() { return this.#s.bubbles; }
    get cancelable() { return this.#s.cancelable; }
    get composed() { return this.#s.composed; }
    get defaultPrevented() { return this.#s.canceled; }
    get returnValue() { return !this.#s.canceled; }
    get eventPhase() { return this.#s.phase; }
    get isTrusted() { return false; }
    get timeStamp() { return 0; }
    get target() { return this.#s.target; }
    get srcElement() { return this.#s.target; }
    get currentTarget() { return this.#s.current; }
    get cancelBubble() { return this.#s.stop; }
    set cancelBubble(v) { if (v) this.#s.stop = true; }
    preventDefault() {
      // As workerd: dispatchEvent() answers false even for an event that is not cancelable.
      if (this.#s.dispatching) this.#s.prevented = true;
      if (this.#s.cancelable) this.#s.canceled = true;
    }
    stopPropagation() { this.#s.stop = true; }
    stopImmediatePropagation() { this.#s.stop = this.#s.stopNow = true; }
    composedPath() { return this.#s.dispatching && this.#s.current ? [this.#s.current] : []; }
  }
  hide(Event.prototype, "Event");
  Object.entries({ NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 }).forEach(([k, v]) => {
    Object.defineProperty(Event, k, { value: v, enumerable: true });
    Object.defineProperty(Event.prototype, k, { value: v, enumerable: true });
  });

  // ---- EventTarget
  class EventTarget {
    #listeners = new Map();          // type -> [{callback, once, removed}]
    constructor() { if (!new.target) throw needNew("EventTarget"); }

    addEventListener(type, callback, options) {
      if (callback === null || callback === undefined) return;
      if (typeof callback !== "function" && typeof callback !== "object") {
        throw notOfType("addEventListener", "EventTarget", 2, "function or HandlerObject");
      }
      const o = typeof options === "object" && options !== null ? options : { capture: options };
      if (o.capture) throw new TypeError("addEventListener(): useCapture must be false.");
      const signal = o.signal;
      if (signal !== undefined && signal.aborted) return;
      type = String(type);
      let list = this.#listeners.get(type);
      if (!list) this.#listeners.set(type, list = []);
      if (list.some((l) => l.callback === callback)) return;
      const entry = { callback, once: !!o.once, removed: false };
      list.push(entry);
      if (signal !== undefined) signal.addEventListener("abort", () => this.removeEventListener(type, callback));
    }

    removeEventListener(type, callback) {
      const list = this.#listeners.get(String(type));
      if (!list) return;
      const i = list.findIndex((l) => l.callback === callback);
      if (i !== -1) { list[i].removed = true; list.splice(i, 1); }
    }

    dispatchEvent(event) {
      if (!(event instanceof Event)) throw notOfType("dispatchEvent", "EventTarget", 1, "Event");
      const s = eventState(event);
      if (s.dispatching) throw domError("The event is already being dispatched.", "InvalidStateError");
      s.dispatching = true;
      s.target = s.current = this;
      s.phase = 2;
      try {
        const list = this.#listeners.get(s.type);
        if (list) {
          for (const l of list.slice()) {
            if (l.removed) continue;
            if (l.once) this.removeEventListener(s.type, l.callback);
            const cb = l.callback;
            if (typeof cb === "function") cb.call(this, event);
            else if (typeof cb.handleEvent === "function") cb.handleEvent(event);
            if (s.stopNow) break;
          }
        }
      } finally {
        s.dispatching = false;
        s.phase = 0;
        s.stop = s.stopNow = false;
      }
      const prevented = s.prevented;
      s.prevented = false;
      return !(s.canceled || prevented);
    }
  }
  hide(EventTarget.prototype, "EventTarget");

  // ---- AbortController, AbortSignal
  let abortSignal;                   // (signal, reason) -> aborts it
  class AbortSignal extends EventTarget {
    #aborted = false;
    #reason = undefined;
    #onabort = null;
    #dependents = [];
    constructor(token) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
      super();
    }
    static {
      abortSignal = (signal, reason) => {
        if (signal.#aborted) return;
        signal.#aborted = true;
        signal.#reason = reason === undefined ? domError("The operation was aborted", "AbortError") : reason;
        if (typeof signal.#onabort === "function") signal.#onabort.call(signal, new Event("abort"));
        signal.dispatchEvent(new Event("abort"));
        for (const d of signal.#dependents) abortSignal(d, signal.#reason);
      };
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    get onabort() { return this.#onabort; }
    set onabort(fn) { this.#onabort = typeof fn === "function" || typeof fn === "object" ? fn : null; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }

    static abort(reason) {
      const s = new AbortSignal(TOKEN);
      abortSignal(s, reason);
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(TOKEN);
      for (const other of signals) {
        if (!(other instanceof AbortSignal)) throw new TypeError("Failed to execute 'any' on 'AbortSignal': parameter 1 is not of type 'Sequence'.");
        if (other.aborted) { abortSignal(s, other.reason); break; }
        other.#dependents.push(s);
      }
      return s;
    }
    static timeout(ms) {
      const s = new AbortSignal(TOKEN);
      globalThis.setTimeout(() => abortSignal(s, domError("The operation was aborted due to timeout", "TimeoutError")), ms);
      return s;
    }
  }
  hide(AbortSignal.prototype, "AbortSignal");

  class AbortController {
    #signal = new AbortSignal(TOKEN);
    constructor() { if (!new.target) throw needNew("AbortController"); }
    get signal() { return this.#signal; }
    abort(reason) { abortSignal(this.#signal, reason); }
  }
  hide(AbortController.prototype, "AbortController");

  for (const [name, value] of Object.entries({ DOMException, Event, EventTarget, AbortSignal, AbortController })) {
    webGlobal(name, value);
  }
  internal.web = { DOMException, Event, EventTarget, AbortSignal, AbortController, abortSignal };
  Object.assign(internal, { webGlobal, hide, needNew, notOfType, snapshotIterator, domError });
})
