// A coordinator that fans work out to other objects and gathers their answers.
// Votes are counted by polling stations (STATION/<name>); the election (COORDINATOR/<name>)
// knows its stations, forwards each vote to one of them through an `env` stub, and sums
// their counts. Stub calls go through the same dispatch path as any other call: each
// station serializes its own events, and arguments and results cross as JSON.

class Coordinator {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  // RPC: name the polling stations of this election.
  open(stations) {
    if (!Array.isArray(stations) || stations.length === 0) {
      throw new TypeError("open(stations) needs a non-empty array of station names");
    }
    this.state.storage.put("stations", stations);
    return stations;
  }

  stations() {
    const stations = this.state.storage.get("stations");
    if (stations === undefined) throw new Error("the election is not open: call open([...]) first");
    return stations;
  }

  // RPC: cast a vote at a station; the station counts it.
  async vote(station, candidate) {
    if (!this.stations().includes(station)) throw new Error(`no station ${station}`);
    return await this.env.STATION.getByName(`${this.state.id.name}:${station}`).cast(candidate);
  }

  // RPC: ask every station at once and add up their counts.
  async results() {
    const stations = this.stations();
    const counts = await Promise.all(
      stations.map((s) => this.env.STATION.getByName(`${this.state.id.name}:${s}`).counts()),
    );
    const total = {};
    for (const count of counts) {
      for (const [candidate, n] of Object.entries(count)) total[candidate] = (total[candidate] || 0) + n;
    }
    return { total, byStation: Object.fromEntries(stations.map((s, i) => [s, counts[i]])) };
  }
}

class Station {
  constructor(state, env) {
    this.state = state;
    this.env = env;
  }

  cast(candidate) {
    const key = "votes:" + candidate;
    const n = (this.state.storage.get(key) || 0) + 1;
    this.state.storage.put(key, n);
    return n;
  }

  counts() {
    const counts = {};
    for (const [key, n] of Object.entries(this.state.storage.list({ prefix: "votes:" }))) {
      counts[key.slice("votes:".length)] = n;
    }
    return counts;
  }
}

exports.objects = { Coordinator, Station };
