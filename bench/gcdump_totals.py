# Totals by type from `dotnet-gcdump report` (its heapstat rows give bytes per object and the count): the largest
# totals first, optionally beside a second dump. Usage: gcdump_totals.py REPORT.txt [OTHER.txt] [--top N]
import re, sys
argv = sys.argv[1:]
top = 40
if "--top" in argv:
    i = argv.index("--top"); top = int(argv[i + 1]); del argv[i:i + 2]
args = argv
def load(path):
    totals = {}
    for line in open(path):
        m = re.match(r"^\s*([\d,]+)\s+([\d,]+)\s+(.+?)\s*$", line)
        if not m: continue
        size, count, name = int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")), m.group(3)
        name = re.sub(r"\s+\[[^\]]+\]$", "", name)
        totals[name] = totals.get(name, 0) + size * count
    return totals
a = load(args[0]); b = load(args[1]) if len(args) > 1 else {}
print(f"total {sum(a.values())/1e6:.1f} MB" + (f" vs {sum(b.values())/1e6:.1f} MB" if b else ""))
for name, v in sorted(a.items(), key=lambda kv: -kv[1])[:top]:
    print(f"{v/1e3:10.0f} KB" + (f" {b.get(name, 0)/1e3:10.0f} KB" if b else "") + f"  {name}")
