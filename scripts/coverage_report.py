#!/usr/bin/env python3
"""Reads gcov's JSON (one document per line, `gcov --json-format --stdout`)
and prints line coverage per project folder and the functions with the most
lines no test ran. Usage: coverage_report.py ROOT [TOP]"""
import collections
import json
import os
import sys

FOLDERS = ["ir", "engine", "codegen", "runtime", "tools"]

root = os.path.realpath(sys.argv[1])
top = int(sys.argv[2]) if len(sys.argv) > 2 else 15

# A header's line is compiled into many objects: it ran if it ran in any.
counts = collections.defaultdict(int)   # (file, line) -> executions
owner = {}                              # (file, line) -> function's name
for text in sys.stdin:
    text = text.strip()
    if not text:
        continue
    doc = json.loads(text)
    cwd = doc.get("current_working_directory", "")
    for f in doc["files"]:
        path = os.path.realpath(os.path.join(cwd, f["file"]))
        rel = os.path.relpath(path, root)
        if rel.split(os.sep)[0] not in FOLDERS:
            continue
        names = {fn["name"]: fn.get("demangled_name", fn["name"]) for fn in f["functions"]}
        for line in f["lines"]:
            key = (rel, line["line_number"])
            counts[key] += line["count"]
            fn = line.get("function_name")
            if fn:
                owner.setdefault(key, names.get(fn, fn))

per_folder = collections.defaultdict(lambda: [0, 0])  # folder -> [covered, total]
untested = collections.Counter()                      # (file, function) -> lines not run
first_line = {}
for (rel, number), n in counts.items():
    folder = rel.split(os.sep)[0]
    per_folder[folder][1] += 1
    if n:
        per_folder[folder][0] += 1
    elif (rel, number) in owner:
        key = (rel, owner[(rel, number)])
        untested[key] += 1
        first_line[key] = min(first_line.get(key, number), number)

print("line coverage by folder")
all_covered = all_total = 0
for folder in FOLDERS:
    covered, total = per_folder.get(folder, [0, 0])
    all_covered += covered
    all_total += total
    pct = 100.0 * covered / total if total else 0.0
    print(f"  {folder:<10} {pct:5.1f}%  {covered:6d} / {total:6d} lines")
pct = 100.0 * all_covered / all_total if all_total else 0.0
print(f"  {'total':<10} {pct:5.1f}%  {all_covered:6d} / {all_total:6d} lines")

print("\nlargest untested functions (lines never run)")
for (rel, fn), n in untested.most_common(top):
    shown = fn if len(fn) <= 90 else fn[:87] + "..."
    print(f"  {n:4d}  {rel}:{first_line[(rel, fn)]}  {shown}")
