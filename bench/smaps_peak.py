# Resident memory of a process by mapping kind, at the sample (every 0.5 s) with the most. The GC's heap is the run of
# adjacent anonymous mappings that spans more than 64 GB of address space (its reservation, committed piece by piece).
# Usage: smaps_peak.py PID SECONDS OUT
import sys, time, re, collections, os
pid = int(sys.argv[1]); dur = float(sys.argv[2]); out = sys.argv[3]

def sample():
    maps = []  # (lo, hi, path, rss_kb)
    cur = None
    for line in open(f"/proc/{pid}/smaps"):
        if re.match(r'^[0-9a-f]+-[0-9a-f]+ ', line):
            parts = line.split()
            lo, hi = [int(x, 16) for x in parts[0].split('-')]
            cur = [lo, hi, parts[5] if len(parts) > 5 else '', 0]
            maps.append(cur)
        elif line.startswith('Rss:'):
            cur[3] = int(line.split()[1])
    gc = set()
    run = []
    def close(run):
        if run and run[-1][1] - run[0][0] > 64 << 30: gc.update(id(m) for m in run)
    for m in maps:
        if m[2] == '' and run and run[-1][1] == m[0]: run.append(m)
        else:
            close(run); run = [m] if m[2] == '' else []
    close(run)
    cats = collections.Counter()
    for m in maps:
        path = m[2]
        if id(m) in gc: k = 'anon: GC heap'
        elif path.endswith('.dll'): k = 'file: .dll'
        elif '.so' in path: k = 'file: .so'
        elif path == '[heap]': k = 'anon: malloc [heap]'
        elif path.startswith('/memfd') or 'doublemapper' in path: k = 'jit code (doublemapped)'
        elif path.startswith('['): k = 'other ' + path
        elif path: k = 'file: other'
        else: k = 'anon: other (stacks, malloc arenas, runtime)'
        cats[k] += m[3]
    return cats

best, best_total = collections.Counter(), 0
end = time.time() + dur
while time.time() < end:
    try: cats = sample()
    except (FileNotFoundError, ProcessLookupError): break
    total = sum(cats.values())
    if total > best_total: best_total, best = total, cats
    time.sleep(0.5)
with open(out, 'w') as f:
    f.write(f"total {best_total / 1024:.0f} MB\n")
    for k, v in best.most_common():
        if v >= 512: f.write(f"{k:45s} {v / 1024:7.1f} MB\n")
