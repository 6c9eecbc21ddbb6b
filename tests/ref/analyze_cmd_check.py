"""analyze_cmd_check.py - `attnrl analyze`'s table against its --json file.

Usage: analyze_cmd_check.py TABLE JSON N K [HTML]. The table must have the three layer thirds (early,
middle, late), each with its three linkages and nine finite numbers (value, baseline, lift and
their intervals), equal to the JSON's at the printed precision; the densities' rows with N
problems and N x K responses; the perturbation row equal to the JSON's summary. Properties the
numbers must have whatever the model: each interval holds its point, the entropy baseline and
the token count are the same in every third (the same tokens), the receiver linkage's baseline
is the global peak density, and under top-q every response has ceil(q R) >= q R WAAD peaks.
With HTML (--html's page), each linkage's chart has one value and one baseline per third, the
lift and density charts one point per third and signal, all equal to the JSON's numbers.
Prints the first difference and exits 1.
"""
import json
import math
import re
import sys

THIRDS = ["early", "middle", "late"]
LINKS = [("entropy", "entropy at WAAD peaks"), ("receiver", "receiver in global peaks"),
         ("follow", "FAI peak at/after WAAD")]


def fail(msg):
    print("analyze_cmd_check: " + msg)
    sys.exit(1)


def numbers(text):
    return [float(x) for x in text.replace("[", " ").replace("]", " ").replace(",", " ").split()]


def main():
    table, doc, n, k = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
    lines = open(table).read().splitlines()
    thirds = {t["linkages"]["group"]: t["linkages"] for t in doc["thirds"]}
    if sorted(thirds) != sorted(THIRDS):
        fail("JSON thirds %s" % sorted(thirds))
    rows = 0
    for line in lines:
        for g in THIRDS:
            for name, title in LINKS:
                head = "%-10s %-26s" % (g, title)
                if not line.startswith(head):
                    continue
                rows += 1
                got = numbers(line[len(head):])
                if len(got) != 9 or not all(math.isfinite(x) for x in got):
                    fail("%s %s: not nine finite numbers: %s" % (g, name, line))
                j = thirds[g]
                want = [j["%s_%s%s" % (name, what, end)] for what in ("value", "baseline", "lift")
                        for end in ("", "_lo", "_hi")]
                if ["%.4f" % x for x in got] != ["%.4f" % x for x in want]:
                    fail("%s %s: table %s, JSON %s" % (g, name, got, want))
                for i in (0, 3, 6):
                    if not want[i + 1] - 1e-12 <= want[i] <= want[i + 2] + 1e-12:
                        fail("%s %s: point %g outside [%g, %g]" % (g, name, *want[i:i + 3]))
    if rows != 9:
        fail("%d linkage rows, want 9" % rows)
    dens = [l.split() for l in lines if l.split() and l.split()[0] in THIRDS and "%" in l]
    if len(dens) != 3:
        fail("density rows: %s" % dens)
    for d in dens:
        j = thirds[d[0]]
        if (int(d[1]), int(d[2])) != (n, n * k) or (j["problems"], j["responses"]) != (n, n * k):
            fail("%s: problems, responses %s, want %d, %d" % (d[0], d[1:3], n, n * k))
        want = ["%.1f%%" % (100 * j[key]) for key in ("density_waad", "density_glob", "density_recv")]
        if d[4:7] != want or float(d[3]) != j["tokens"]:
            fail("%s: densities %s, JSON %s" % (d[0], d[3:7], want))
    first = thirds["early"]
    for g in THIRDS:
        j = thirds[g]
        if j["entropy_baseline"] != first["entropy_baseline"] or j["tokens"] != first["tokens"]:
            fail("%s: the entropy baseline or tokens differ from the early third's" % g)
        if abs(j["receiver_baseline"] - j["density_glob"]) > 1e-12:
            fail("%s: receiver baseline %g != global density %g" % (g, j["receiver_baseline"],
                                                                    j["density_glob"]))
        s = doc["settings"]
        if s["peaks"] == "topq" and not s["q"] <= j["density_waad"] <= s["q"] + j["responses"] / j["tokens"]:
            fail("%s: WAAD density %g outside [q, q + responses / tokens]" % (g, j["density_waad"]))
    p = doc["perturbation"]["summary"]
    row = [l.split() for l in lines if l.startswith("perturbation ") and "(" not in l]
    want = [str(p["problems"]), "%.4f" % p["jaccard_high_fai"], "%.4f" % p["jaccard_low_fai"],
            "%.1f%%" % (100 * p["frac_high_lower"])]
    if len(row) != 1 or row[0][1:] != want:
        fail("perturbation row %s, JSON %s" % (row, want))
    if not (0 <= p["jaccard_high_fai"] <= 1 and 0 <= p["jaccard_low_fai"] <= 1 and p["problems"] >= 1):
        fail("perturbation summary %s" % p)
    if len(sys.argv) > 5:
        check_html(open(sys.argv[5]).read(), thirds, p)
    print("analyze_cmd_check: 9 linkages x 3, densities and the perturbation agree")


def chart(html, name):
    m = re.search(r'<svg class="plot" id="plot-%s" data-n="(\d+)"(.*?)</svg>' % name, html, re.S)
    if not m:
        fail("html: no chart %s" % name)
    marks = re.findall(r'data-key="(\w+)" data-v="([^"]+)"', m.group(2))
    return int(m.group(1)), marks


def same(got, want, what):
    if len(got) != len(want) or any(abs(a - b) > 1e-9 * max(1, abs(b)) for a, b in zip(got, want)):
        fail("html %s: %s, JSON %s" % (what, got, want))


def check_html(html, thirds, pert):
    for name, _ in LINKS:
        n, marks = chart(html, name)
        for key in ("value", "baseline"):
            same([float(v) for k, v in marks if k == key],
                 [thirds[g]["%s_%s" % (name, key)] for g in THIRDS], name + " " + key)
    n, marks = chart(html, "lift")
    same([float(v) for k, v in marks if k == "value"],
         [thirds[g][name + "_lift"] for name, _ in LINKS for g in THIRDS], "lift")
    n, marks = chart(html, "density")
    same([float(v) for k, v in marks if k == "value"],
         [thirds[g][d] for g in THIRDS for d in ("density_waad", "density_glob", "density_recv")],
         "density")
    n, marks = chart(html, "perturb")
    same([float(v) for k, v in marks if k == "value"],
         [pert["jaccard_high_fai"], pert["jaccard_low_fai"]], "perturbation")


main()
