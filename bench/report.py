#!/usr/bin/env python3
"""Writes docs/benchmarks-load.md from the rows bench/run.sh collected.

results.jsonl: one row per measured run (llmux-load run --json), Target = "scenario:target".
meta.jsonl: machine load, LLMux hosts (start-up, idle RSS), wrk cross-check rows.
Every section puts the baselines (direct call, YARP forwarder) in the same table as each LLMux host and
writes the issue's target beside the measured ratio: met / missed.
"""
import argparse
import datetime
import json
import os
import statistics

BASELINES = ("direct", "yarp")


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def med(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def spread(rows, key):
    values = [r[key] for r in rows if r.get(key) is not None]
    if len(values) < 2 or not statistics.median(values):
        return "–"
    return f"{(max(values) - min(values)) / statistics.median(values) * 100:.0f} %"


def verdict(ok):
    return "**met**" if ok else "**missed**"


def ms(us):
    return "–" if us is None else f"{us / 1000:.2f}"


def num(v, fmt="{:,.0f}"):
    return "–" if v is None else fmt.format(v)


def runtime(row):
    p = row.get("Process") or {}
    return p.get("Runtime") or {}


def per_request_bytes(row):
    rt = runtime(row)
    return rt["AllocatedBytes"] / row["Requests"] if rt and row["Requests"] else None


def per_chunk_bytes(row):
    rt = runtime(row)
    return rt["AllocatedBytes"] / row["Chunks"] if rt and row["Chunks"] else None


def marginal_per_chunk(stream_row, plain_rows):
    """Bytes per chunk beyond what a non-stream request of the same process allocates: (per stream - per request) / chunks per stream."""
    per_stream = per_request_bytes(stream_row)
    per_request = statistics.median([b for b in map(per_request_bytes, plain_rows or []) if b is not None] or [None]) if plain_rows else None
    if per_stream is None or per_request is None or not stream_row["Streams"]:
        return None
    return (per_stream - per_request) / (stream_row["Chunks"] / stream_row["Streams"])


class Report:
    def __init__(self, rows, meta, quick):
        self.groups = {}
        for r in rows:
            scenario, target = r["Target"].split(":", 1)
            self.groups.setdefault(scenario, {}).setdefault(target, []).append(r)
        self.meta = meta
        self.quick = quick
        self.hosts = [m["name"] for m in meta if m["kind"] == "host"]
        self.lines = []

    def add(self, *lines):
        self.lines.extend(lines)

    def table(self, header, rows):
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        for r in rows:
            self.add("| " + " | ".join(str(c) for c in r) + " |")
        self.add("")

    def targets(self, scenario):
        g = self.groups.get(scenario, {})
        return [t for t in (*BASELINES, *(x for h in self.hosts for x in (h, h + "-chat"))) if t in g]

    # --- sections -------------------------------------------------------------------------------------

    def header(self):
        machine = next((m for m in self.meta if m["kind"] == "machine"), {})
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        self.add("# Load benchmarks: LLMux vs direct vs YARP", "",
                 f"Machine: {os.cpu_count()} cores, {cpu}; load average at start {machine.get('load', '?')}; "
                 f"date {machine.get('date') or format(datetime.datetime.now(datetime.timezone.utc), '%Y-%m-%d %H:%M')} UTC; mode {'quick' if self.quick else 'full'}.",
                 "Command: `bench/run.sh" + (" --quick" if self.quick else "") + "`. Upstreams: the emulators of tests/LLMux.Emulators run "
                 "standalone (`llmux-load upstream --format ...`). Load generator, upstreams, YARP and LLMux share the same cores, "
                 "so absolute figures are low and noisy; compare ratios in the same table.",
                 "Process figures (CPU from /proc, GC and allocation from the target's `System.Runtime` EventCounters over an EventPipe "
                 "session) cover each row's measured window; `–` where a target is not watched (the direct call).", "")
        rows = []
        for m in self.meta:
            if m["kind"] != "host":
                continue
            end = next((e["rss_mb"] for e in self.meta if e["kind"] == "host-end" and e["name"] == m["name"]), None)
            if "aot" in m["name"]:
                jit = next((j for j in self.meta if j["kind"] == "host" and "aot" not in j["name"]), None)
                target = f"lower than JIT's: {verdict(jit is not None and m['idle_rss_mb'] < jit['idle_rss_mb'])}"
            else:
                target = f"≤ 80 MB (JIT): {verdict(m['idle_rss_mb'] <= 80)}"
            rows.append((m["name"], m["startup_ms"], m["idle_rss_mb"], num(end), target))
        yarp = next((m for m in self.meta if m["kind"] == "yarp"), None)
        if yarp:
            rows.append(("yarp", "–", yarp["idle_rss_mb"], "–", "baseline"))
        self.add("## Hosts", "")
        self.table(["process", "start-up ms (to first answer)", "idle RSS MB", "RSS MB at the end", "target"], rows)

    def throughput(self):
        g = self.groups.get("rps")
        if not g:
            return
        wrk = {m["name"]: m for m in self.meta if m["kind"] == "wrk"}
        self.add("## Non-stream throughput, closed loop, 32 connections", "")
        rows = []
        for t in self.targets("rps"):
            rs = g[t]
            w = wrk.get(t)
            rows.append((t, num(med(rs, "Rps")), spread(rs, "Rps"), num(w["rps"]) if w else "–", ms(med(rs, "P50Us")), ms(med(rs, "P99Us")),
                         sum(r["Errors"] for r in rs), num(med(rs, "OverheadP50Us")), num(med(rs, "OverheadP99Us"))))
        self.table(["target", "RPS (median)", "spread", "wrk RPS", "p50 ms", "p99 ms", "errors", "overhead p50 µs", "overhead p99 µs"], rows)
        if not any(m["kind"] == "wrk" for m in self.meta):
            self.add("wrk was not installed: the cross-check column is empty.", "")
        y = med(g["yarp"], "Rps")
        for h in self.hosts:
            if h not in g:
                continue
            l = med(g[h], "Rps")
            ov = med(g[h], "OverheadP50Us")
            self.add(f"- {h} / YARP throughput: {l / y:.2f}× (target ≥ 0.9×): {verdict(l / y >= 0.9)}; {h} / direct: {l / med(g['direct'], 'Rps'):.2f}×.")
            if h in wrk and "yarp" in wrk:
                self.add(f"- wrk cross-check, {h} / YARP: {wrk[h]['rps'] / wrk['yarp']['rps']:.2f}×.")
            if ov is not None:
                self.add(f"- {h} self-measured overhead (`x-llmux-overhead-us`, passthrough) p50 {ov:.0f} µs (target ≤ 10 µs): {verdict(ov <= 10)}.")
        self.add("")

    def latency(self):
        g = self.groups.get("rate")
        if not g:
            return
        d50, d99 = med(g["direct"], "P50Us"), med(g["direct"], "P99Us")
        self.add("## Added latency at a fixed rate (open loop)", "")
        rows = [(t, ms(med(g[t], "P50Us")), ms(med(g[t], "P99Us")), f"{med(g[t], 'P50Us') - d50:.0f}", f"{med(g[t], 'P99Us') - d99:.0f}",
                 sum(r["Errors"] for r in g[t])) for t in self.targets("rate")]
        self.table(["target", "p50 ms", "p99 ms", "added p50 µs", "added p99 µs", "errors"], rows)
        y50, y99 = med(g["yarp"], "P50Us") - d50, med(g["yarp"], "P99Us") - d99
        for h in self.hosts:
            if h in g:
                l50, l99 = med(g[h], "P50Us") - d50, med(g[h], "P99Us") - d99
                self.add(f"- {h} added latency vs YARP's (target: no more than YARP): p50 {l50:.0f} µs vs {y50:.0f} µs: {verdict(l50 <= y50)}; "
                         f"p99 {l99:.0f} µs vs {y99:.0f} µs: {verdict(l99 <= y99)}.")
        self.add("")

    def streams(self):
        for scenario in sorted((k for k in self.groups if k.startswith("streams")), key=lambda k: int(k[7:])):
            g = self.groups[scenario]
            n = int(scenario[7:])
            self.add(f"## {n} concurrent streams (64 chunks, 20 ms apart)", "")
            rows = []
            for t in self.targets(scenario):
                r = g[t][0]
                rt = runtime(r)
                rows.append((t, r["Streams"], r["CompleteStreams"], r["StalledStreams"], f"{r['GapP50Us'] / 1000:.1f}", f"{r['GapP99Us'] / 1000:.1f}",
                             f"{r['GapMaxUs'] / 1000:.1f}", r["Errors"], num(per_chunk_bytes(r)), num(marginal_per_chunk(r, self.groups.get("rps", {}).get(t))),
                             num(rt.get("Gen2")), num((r.get("Process") or {}).get("RssMaxMb")), num((r.get("Process") or {}).get("AnonMaxMb"))))
            self.table(["target", "streams done", "complete", "stalled (gap > 250 ms)", "chunk gap p50 ms", "p99 ms", "max ms", "errors",
                        "B allocated / chunk (all)", "B / chunk beyond a request", "gen-2 GCs", "RSS max MB", "own (anonymous) MB max"], rows)
            self.add("RSS counts the mapped .NET runtime and assemblies (file pages shared by every .NET process on the machine); "
                     "the last column is the process's own memory: GC heaps, stacks, JIT'd code.", "")
            self.add("B allocated / chunk (all) divides everything the process allocated by the chunks delivered; the next column first "
                     "takes off what a non-stream request costs the same process (from the throughput rows), leaving the per-chunk cost.", "")
            for h in self.hosts:
                if h not in g:
                    continue
                r = g[h][0]
                pc, gen2, rss = per_chunk_bytes(r), runtime(r).get("Gen2"), (r.get("Process") or {}).get("RssMaxMb")
                notes = []
                if n >= 1024:
                    notes.append(f"≥ 1,024 streams with no stall: {r['StalledStreams']} stalled: {verdict(r['StalledStreams'] == 0 and r['Errors'] == 0)}")
                    anon = (r.get("Process") or {}).get("AnonMaxMb")
                    yarp_anon = ((g.get("yarp") or [{}])[0].get("Process") or {}).get("AnonMaxMb")
                    notes.append(f"RSS ≤ 150 MB under 1,024 streams: {rss} MB (own memory {anon} MB, YARP's {yarp_anon} MB): {verdict(rss is not None and rss <= 150)}")
                mc = marginal_per_chunk(r, self.groups.get("rps", {}).get(h))
                if mc is not None:
                    notes.append(f"≤ 32 B allocated per streamed chunk (passthrough, beyond a request's cost): {mc:,.0f} B "
                                 f"({pc:,.0f} B with everything): {verdict(mc <= 32)}")
                if gen2 is not None:
                    notes.append(f"no gen-2 GC in steady state: {gen2}: {verdict(gen2 == 0)}")
                for note in notes:
                    self.add(f"- {h}: {note}.")
            self.add("")

    def translating(self):
        formats = [f for f in ("anthropic", "gemini", "bedrock") if f"translate-{f}" in self.groups]
        if not formats:
            return
        self.add("## Translating: OpenAI clients → Anthropic / Gemini / Bedrock upstreams (32 connections, 64 chunks, no delay)", "",
                 "The direct baseline calls the emulator in its own format (Bedrock: with a bearer API key, while LLMux signs SigV4 and "
                 "the emulator verifies it, so the LLMux rows carry that extra upstream work).", "")
        rows, notes = [], []
        for f in formats:
            for mode in ("", "-stream"):
                g = self.groups.get(f"translate-{f}{mode}", {})
                for t in self.targets(f"translate-{f}{mode}"):
                    r = g[t][0]
                    rt = runtime(r)
                    plain = self.groups.get(f"translate-{f}", {}).get(t)
                    rows.append((f + (" stream" if mode else ""), t, num(r["Rps"]), ms(r["P50Us"]), ms(r["P99Us"]), r["Errors"],
                                 num(r["OverheadP50Us"]), num(r["OverheadP99Us"]), num(per_request_bytes(r)),
                                 num(per_chunk_bytes(r)) if mode else "–", num(marginal_per_chunk(r, plain)) if mode else "–", num(rt.get("Gen2"))))
                d = g.get("direct", [None])[0]
                for h in self.hosts:
                    if h not in g:
                        continue
                    r = g[h][0]
                    ov = r["OverheadP50Us"]
                    line = f"- {f}{' stream' if mode else ''}, {h}: RPS {r['Rps'] / d['Rps']:.2f}× direct" if d and d["Rps"] else f"- {f}{mode}, {h}:"
                    if ov is not None and not mode:
                        line += f"; overhead p50 {ov} µs (target ≤ 40 µs translating): {verdict(ov <= 40)}"
                    mc = marginal_per_chunk(r, self.groups.get(f"translate-{f}", {}).get(h))
                    if mode and mc is not None:
                        line += f"; {mc:,.0f} B allocated per chunk beyond a request's cost, {per_chunk_bytes(r):,.0f} B with everything (target ≤ 256 B): {verdict(mc <= 256)}"
                    notes.append(line + ".")
        self.table(["upstream", "target", "RPS", "p50 ms", "p99 ms", "errors", "overhead p50 µs", "overhead p99 µs", "B allocated / request",
                    "B allocated / chunk (all)", "B / chunk beyond a request", "gen-2 GCs"], rows)
        self.add(*notes, "",
                 "Without an upstream delay LLMux coalesces frames into fewer writes, so its clients make fewer reads than direct ones; "
                 "with the load generator on the same 2 cores that can make a stream through LLMux finish sooner than a direct one. "
                 "The overhead target is judged on the non-stream rows. On a stream LLMux writes its headers once the first upstream event "
                 "has arrived; `x-llmux-overhead-us` leaves out the time spent waiting on upstream reads before it (builds before "
                 "2026-11-26 16:00 UTC counted that wait as LLMux time), but still includes the hop to the stream's reader thread, "
                 "which under this load is most of the stream figure.", "")

    def responses(self):
        scenarios = [k for k in ("responses-native", "responses-native-stream", "responses-bridge", "responses-bridge-stream") if k in self.groups]
        if not scenarios:
            return
        self.add("## /v1/responses (32 connections, 64 chunks)", "",
                 "Native: LLMux passes the Responses API through to OpenAI's Responses emulator (body with `model` rewritten, "
                 "frames as they arrive), beside a direct call and a bare YARP forwarder to the same emulator. Bridged: LLMux "
                 "translates the Responses API onto the OpenAI chat emulator (64 chunks 20 ms apart) and its answer back into "
                 "Response objects and events, beside chat completions through the same host and deployment (`<host>-chat`).", "")
        rows, notes = [], []
        for sc in scenarios:
            g = self.groups[sc]
            for t in self.targets(sc):
                r = g[t][0]
                rows.append((sc, t, num(r["Rps"]), ms(r["P50Us"]), ms(r["P99Us"]), r["Errors"], num(r["OverheadP50Us"]), num(r["OverheadP99Us"]),
                             num(per_request_bytes(r)), num(per_chunk_bytes(r)) if sc.endswith("stream") else "–"))
            for h in self.hosts:
                if h not in g:
                    continue
                r = g[h][0]
                if sc.startswith("responses-native"):
                    d, y = g.get("direct", [None])[0], g.get("yarp", [None])[0]
                    parts = []
                    if d and d["Rps"]:
                        parts.append(f"RPS {r['Rps'] / d['Rps']:.2f}× direct")
                    if y and y["Rps"]:
                        parts.append(f"{r['Rps'] / y['Rps']:.2f}× YARP (target ≥ 0.9×): {verdict(r['Rps'] / y['Rps'] >= 0.9)}")
                    if d and y and not sc.endswith("stream"):
                        parts.append(f"added p50 {r['P50Us'] - d['P50Us']:.0f} µs vs YARP's {y['P50Us'] - d['P50Us']:.0f} µs")
                    notes.append(f"- {sc}, {h}: " + "; ".join(parts) + ".")
                else:
                    c = g.get(h + "-chat", [None])[0]
                    if c and c["Rps"]:
                        line = f"- {sc}, {h}: RPS {r['Rps'] / c['Rps']:.2f}× chat completions on the same deployment"
                        if r.get("P50Us") and c.get("P50Us"):
                            line += f"; p50 {ms(r['P50Us'])} vs {ms(c['P50Us'])} ms"
                        notes.append(line + ".")
        self.table(["scenario", "target", "RPS", "p50 ms", "p99 ms", "errors", "overhead p50 µs", "overhead p99 µs", "B allocated / request",
                    "B allocated / chunk (all)"], rows)
        self.add(*notes, "")

    def governance(self):
        """Governance on (virtual key: auth, three rate limits, a budget, a spend row per call; SQLite) vs off, same host build."""
        scenarios = [k for k in ("governance", "governance-stream") if k in self.groups]
        if not scenarios:
            return
        self.add("## Governance on vs off (SQLite)", "",
                 "`llmux-gov`: the same JIT host and config plus a master key and an SQLite file; every call carries a virtual key "
                 "with rpm, tpm and max_parallel_requests limits and a budget, and writes a spend row through the background writer. "
                 "`llmux`: governance off. Both warm (the last repetition; the governance host gets an unrecorded warm-up first). "
                 "Target: no more than 10 % more CPU per request with governance on.", "")
        rows, notes = [], []
        for sc in scenarios:
            g = self.groups[sc]
            for t in ("llmux", "llmux-gov"):
                if t not in g:
                    continue
                r = g[t][-1]
                p = r.get("Process") or {}
                done = r["Requests"] + r.get("Aborted", 0)
                cpu = p.get("CpuSeconds", 0) / done * 1000 if done else None
                rows.append((sc, t, num(r["Rps"]), ms(r["P50Us"]), ms(r["P99Us"]), r["Errors"], num(cpu, "{:.2f}"), num(per_request_bytes(r))))
            # The last repetition: both hosts warm.
            off, on = g.get("llmux", [None])[-1], g.get("llmux-gov", [None])[-1]
            if off and on and off.get("Process") and on.get("Process"):
                c_off = off["Process"]["CpuSeconds"] / max(1, off["Requests"] + off.get("Aborted", 0))
                c_on = on["Process"]["CpuSeconds"] / max(1, on["Requests"] + on.get("Aborted", 0))
                if c_off:
                    notes.append(f"- {sc}: CPU per request {c_on / c_off:.2f}× with governance on (target ≤ 1.10×): {verdict(c_on / c_off <= 1.10)}; "
                                 f"p50 {ms(on['P50Us'])} vs {ms(off['P50Us'])} ms; RPS {on['Rps'] / off['Rps']:.2f}× off.")
        self.table(["scenario", "target", "RPS", "p50 ms", "p99 ms", "errors", "CPU s / 1k", "B allocated / request"], rows)
        spend = [m for m in self.meta if m["kind"] == "governance-rows"]
        if spend:
            notes.append(f"- spend rows written by the governance host over the run: {num(spend[-1]['spend_rows'])} (RSS at the end {spend[-1]['rss_mb']} MB).")
        self.add(*notes, "")

    def slow(self):
        g = self.groups.get("slow")
        if not g:
            return
        first = next(iter(g.values()))[0]
        n = first["Concurrency"]
        knobs = next((m for m in self.meta if m["kind"] == "slow"), {"bytes_per_stream": 0, "pause_ms": 0})
        mb = knobs["bytes_per_stream"] / 1048576
        # Loopback sockets autotune up to net.ipv4.tcp_rmem's max (32 MB here) plus the send buffer: a smaller answer fits in the kernel.
        judge_held_back = mb >= 48
        self.add("## Slow clients: readers stop mid-stream, then resume", "",
                 f"{n} streams of one {mb:.0f} MB answer each (4,096 chunks, no delay upstream); every reader (64 KB socket receive buffer) "
                 f"stops for {knobs['pause_ms'] / 1000:.1f} s after 50 chunks. "
                 "If the gateway buffered without bound, its RSS would grow by the payload in flight and the upstream would finish its "
                 "streams during the pause; with backpressure the upstream stays paused (in flight) until the readers resume. "
                 "Kernel socket buffers on loopback hold some megabytes per connection on each hop either way.", "")
        rows = []
        for t in self.targets("slow"):
            r = g[t][0]
            p = r.get("Process") or {}
            mid = r.get("UpstreamMidPause") or {}
            rows.append((t, f"{r['CompleteStreams']} / {n}", r["Errors"], num(p.get("RssBeforeMb")), num(r.get("RssMidPauseMb")), num(p.get("RssMaxMb")),
                         num(mid.get("InFlight")), num(mid.get("Completed")), ms(r["P50Us"])))
        self.table(["target", "streams complete", "errors", "RSS before MB", "RSS late in pause MB", "RSS max MB", "upstream in flight late in pause",
                    "upstream streams finished by then", "stream time p50 ms"], rows)
        yg = self._growth(g.get("yarp"))
        for h in self.hosts:
            if h not in g:
                continue
            r = g[h][0]
            growth = self._growth(g[h])
            complete = r["CompleteStreams"] == n and r["Errors"] == 0
            if growth is None:
                continue
            bounded = yg is None or growth <= max(2 * yg, yg + 64)
            in_flight = (r.get("UpstreamMidPause") or {}).get("InFlight")
            y_in_flight = ((g.get("yarp", [{}])[0]).get("UpstreamMidPause") or {}).get("InFlight")
            held = (f"{verdict(in_flight == n)}" if judge_held_back
                    else "not judged: an answer this small fits in the kernel's socket buffers (the full run uses 64 MB)")
            self.add(f"- {h}: all streams complete afterwards: {verdict(complete)}; RSS growth over the scenario (max − before) {growth} MB vs YARP's {num(yg)} MB "
                     f"(bounded: within 2× YARP's or YARP's + 64 MB): {verdict(bounded)}; upstream held back (streams still in flight late "
                     f"in the pause) {num(in_flight)} of {n}, YARP {num(y_in_flight)} of {n}: {held}.")
        self.add("")

    @staticmethod
    def _growth(rows):
        if not rows:
            return None
        p = rows[0].get("Process") or {}
        return p["RssMaxMb"] - p["RssBeforeMb"] if p else None

    def disconnect(self):
        g = self.groups.get("disconnect")
        if not g:
            return
        self.add("## Client disconnects mid-stream", "",
                 "Closed loop of streams (64 chunks, 20 ms apart) that the client aborts after 8 chunks. The upstream emulator counts "
                 "requests whose caller went away (`GET /_stats`); TCP connections to the upstream port are counted from /proc/net/tcp "
                 "before the run and a few seconds after it.", "")
        rows = []
        for t in self.targets("disconnect"):
            r = g[t][0]
            u = r.get("UpstreamDelta") or {}
            p = r.get("Process") or {}
            rows.append((t, r["Aborted"], num(u.get("Requests")), num(u.get("Cancelled")), num(u.get("InFlight")), num(r.get("ConnectionsBefore")),
                         num(r.get("ConnectionsAfter")), num(p.get("RssBeforeMb")), num(p.get("RssMaxMb")), num(p.get("RssAfterMb"))))
        self.table(["target", "client aborts", "upstream requests", "upstream cancelled", "upstream in flight after", "conns to upstream before",
                    "after", "RSS before MB", "max", "after"], rows)
        for t in self.targets("disconnect"):
            if t == "direct":
                continue
            r = g[t][0]
            u = r.get("UpstreamDelta") or {}
            ok = u.get("Cancelled") == r["Aborted"] and u.get("InFlight") == 0
            before, after = r.get("ConnectionsBefore"), r.get("ConnectionsAfter")
            p = r.get("Process") or {}
            line = (f"- {t}: every aborted client stream cancelled its upstream request ({u.get('Cancelled')} of {r['Aborted']}, "
                    f"{u.get('InFlight')} still in flight): {verdict(ok)}; connections to the upstream back to baseline ({before} → {after}): "
                    f"{verdict(after is not None and before is not None and after <= before)}")
            if p:
                line += f"; RSS {p['RssBeforeMb']} → {p['RssAfterMb']} MB: {verdict(p['RssAfterMb'] <= p['RssBeforeMb'] + 8)} (within 8 MB)"
            self.add(line + ".")
        self.add("")

    def process(self):
        self.add("## Process figures per scenario (measured window of each row)", "",
                 "CPU = user + system seconds of the process per 1,000 requests (streams: per 1,000 streams); allocation from the "
                 "runtime's total-allocated counter over the window; the first repetition where a scenario is repeated.", "")
        rows = []
        for scenario, g in self.groups.items():
            for t in self.targets(scenario):
                for r in g[t][:1]:
                    p = r.get("Process")
                    if not p:
                        continue
                    rt = p.get("Runtime") or {}
                    done = r["Requests"] + r.get("Aborted", 0)
                    rows.append((scenario, t, num(done), num(p["CpuSeconds"] / done * 1000 if done else None, "{:.2f}"), num(p["RssMaxMb"]),
                                 num(rt.get("Gen0")), num(rt.get("Gen1")), num(rt.get("Gen2")), num(per_request_bytes(r)), num(per_chunk_bytes(r)),
                                 num(rt.get("ThreadPoolQueueMax")), num(rt.get("ThreadPoolThreadsMax")), num(p["ThreadsMax"])))
        self.table(["scenario", "process", "requests", "CPU s / 1k", "RSS max MB", "gen0", "gen1", "gen2", "B alloc / request", "B alloc / chunk",
                    "TP queue max", "TP threads max", "OS threads max"], rows)

    def node_tools(self):
        """The Node-tools condition: load.sh (wrk, one thread) and stream_load.mjs against the Node mock, same cores."""
        rps = [m for m in self.meta if m["kind"] == "node-rps"]
        streams = [m for m in self.meta if m["kind"] == "node-streams"]
        if not rps and not streams:
            return
        self.add("## Node tools on the same cores (load.sh / stream_load.mjs, Node mock upstream)", "",
                 "The conditions of `../shared/peers`: wrk with one thread (`load.sh`), the Node mock upstream (64 chunks, 20 ms apart) "
                 "and `stream_load.mjs`, all sharing the 2 cores with the gateway. Targets interleaved in each repeat; medians, "
                 "with the spread (max − min) / median. CPU per request is the target process's own CPU time from /proc.", "")
        names = [n for n in ("direct", "yarp", *self.hosts) if any(m["name"] == n for m in rps)]
        for c in sorted({m["c"] for m in rps}):
            at = {n: [m for m in rps if m["c"] == c and m["name"] == n] for n in names}
            d50, d99 = med(at["direct"], "p50_ms"), med(at["direct"], "p99_ms")
            rows = []
            for n in names:
                rs = at[n]
                cpu = statistics.median([m["cpu_s"] / m["requests"] * 1e6 for m in rs if m["requests"]] or [0])
                added50 = (med(rs, "p50_ms") - d50) * 1000 if n != "direct" else None
                added99 = (med(rs, "p99_ms") - d99) * 1000 if n != "direct" else None
                rows.append((n, num(med(rs, "rps")), spread(rs, "rps"), f"{med(rs, 'p50_ms'):.2f}", f"{med(rs, 'p99_ms'):.2f}",
                             num(added50), num(added99), f"{cpu:.1f}", sum(m["non2xx"] + m["errors"] for m in rs), max(m["rss_mb"] for m in rs)))
            self.add(f"### {c} connections, {len(at['direct'])} repeats", "")
            self.table(["target", "RPS (median)", "spread", "p50 ms", "p99 ms", "added p50 µs", "added p99 µs", "CPU µs / request", "errors", "RSS MB"], rows)
            y = at.get("yarp")
            if y:
                y_rps, y50, y99 = med(y, "rps"), (med(y, "p50_ms") - d50) * 1000, (med(y, "p99_ms") - d99) * 1000
                for h in self.hosts:
                    if not at.get(h):
                        continue
                    l_rps, l50, l99 = med(at[h], "rps"), (med(at[h], "p50_ms") - d50) * 1000, (med(at[h], "p99_ms") - d99) * 1000
                    ratios = sorted(a["rps"] / b["rps"] for a, b in zip(at[h], y) if b["rps"])
                    self.add(f"- {h} / YARP throughput: {l_rps / y_rps:.2f}× (per repeat {', '.join(f'{x:.2f}' for x in ratios)}; target ≥ 1.0×): {verdict(l_rps >= y_rps)}.",
                             f"- {h} added p50 {l50:.0f} µs vs YARP's {y50:.0f} µs (target ≤ YARP's): {verdict(l50 <= y50)}; "
                             f"added p99 {l99:.0f} µs vs {y99:.0f} µs (target ≤ 1.5×): {verdict(l99 <= 1.5 * y99)}.")
                self.add("")
        if streams:
            self.add(f"### Concurrent streams (`stream_load.mjs`, {streams[0]['summary'].get('concurrency', '?')} at once)", "")
            rows = []
            for m in streams:
                s = m["summary"]
                rows.append((m["name"], s.get("ok", "–"), s.get("stalled", "–"), s.get("gap_ms", {}).get("p99", "–"), s.get("gap_ms", {}).get("max", "–"),
                             s.get("ttfb_first_chunk_ms", {}).get("p99", "–"), m["rss_max_mb"], m["rss_after_mb"]))
            self.table(["target", "ok", "stalled", "gap p99 ms", "gap max ms", "first chunk p99 ms", "RSS max MB", "RSS after MB"], rows)
            for m in streams:
                if m["name"] in self.hosts:
                    limit = 110 if "aot" in m["name"] else 150
                    self.add(f"- {m['name']} RSS at the end of the streams {m['rss_after_mb']} MB, at most {m['rss_max_mb']} MB (target ≤ {limit} MB): {verdict(m['rss_max_mb'] <= limit)}.")
            self.add("")

    def write(self, path):
        self.header()
        self.node_tools()
        self.throughput()
        self.latency()
        self.streams()
        self.translating()
        self.responses()
        self.governance()
        self.slow()
        self.disconnect()
        self.process()
        text = "\n".join(self.lines)
        with open(path, "w") as f:
            f.write(text)
        print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--results", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    Report(load(a.results), load(a.meta), a.quick).write(a.out)


if __name__ == "__main__":
    main()
