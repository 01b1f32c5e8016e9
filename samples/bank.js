// A bank whose total balance never changes: money only moves between accounts.
// All balances live in ONE object (BANK/<bank name>), one key per account, because a
// transfer must debit and credit atomically, and a storage transaction covers the storage
// of one object only. Calls to the bank are serialized, and `storage.transaction` makes
// each transfer all-or-nothing: a transfer that fails half-way leaves no trace.

function key(account) {
  if (typeof account !== "string" || !account) throw new TypeError("an account is a non-empty string");
  return "account:" + account;
}

function checkAmount(amount) {
  if (!Number.isInteger(amount) || amount <= 0) {
    throw new RangeError(`amounts are positive whole cents, not ${amount}`);
  }
}

class Bank {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  // RPC: open an account with an opening deposit; the deposit adds to the bank's total.
  open(account, deposit = 0) {
    return this.state.storage.transaction(() => {
      if (this.state.storage.get(key(account)) !== undefined) {
        throw new Error(`account ${account} exists`);
      }
      if (deposit !== 0) checkAmount(deposit);
      this.state.storage.put(key(account), deposit);
      this.state.storage.put("total", (this.state.storage.get("total") || 0) + deposit);
      return deposit;
    });
  }

  balance(account) {
    const cents = this.state.storage.get(key(account));
    if (cents === undefined) throw new Error(`no account ${account}`);
    return cents;
  }

  // RPC: move `amount` from one account to another; returns both new balances.
  transfer(from, to, amount) {
    return this.transferAll([[from, to, amount]]);
  }

  // RPC: several transfers as one: either all of them happen or none does.
  transferAll(transfers) {
    return this.state.storage.transaction(() => {
      for (const [from, to, amount] of transfers) {
        checkAmount(amount);
        if (from === to) throw new Error("a transfer needs two different accounts");
        const source = this.balance(from);
        const target = this.balance(to);
        // Debit first: if the check below throws, the transaction undoes this put.
        this.state.storage.put(key(from), source - amount);
        if (source - amount < 0) {
          throw new Error(`insufficient funds: ${from} has ${source}, needs ${amount}`);
        }
        this.state.storage.put(key(to), target + amount);
      }
      return this.balances();
    });
  }

  // RPC: every account's balance.
  balances() {
    const result = {};
    for (const [k, cents] of Object.entries(this.state.storage.list({ prefix: "account:" }))) {
      result[k.slice("account:".length)] = cents;
    }
    return result;
  }

  // RPC: check the invariant: the balances add up to everything ever deposited.
  audit() {
    const sum = Object.values(this.balances()).reduce((a, b) => a + b, 0);
    const total = this.state.storage.get("total") || 0;
    return { sum, total, ok: sum === total };
  }
}

exports.objects = { Bank };
