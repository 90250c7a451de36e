#!/usr/bin/env python3
"""Summary of several tconv-paired runs of one configuration (docs/benchmarks.md): per shape
and direction the median over runs of tconv's GFLOP/s, of the paired ratio to oneDNN's best
layout and of NCHW / NHWC, then their geomeans and the lowest cell, as markdown.
A single run's cell can sit inside one burst of another tenant's load; runs minutes apart
do not share it. Usage: summary.py RUN.md [RUN.md ...]"""
import math
import re
import statistics
import sys

ROW = re.compile(r'^\| (\S+) \| (fwd|bd|bw) \| ([\d.]+) \| [^|]+\| (\w+) \| \*\*([\d.]+)\*\* \| '
                 r'(?:([\d.]+) \(([\d.]+)\)|-) \|')
DIRS = ('fwd', 'bd', 'bw')


def read_runs(paths):
    cells = {}
    for path in paths:
        for line in open(path):
            m = ROW.match(line)
            if not m:
                continue
            shape, d, gf, best, ratio, _, nchw = m.groups()
            c = cells.setdefault((shape, d), {'gf': [], 'ratio': [], 'nchw': [], 'best': []})
            c['gf'].append(float(gf))
            c['ratio'].append(float(ratio))
            c['best'].append(best)
            if nchw:
                c['nchw'].append(float(nchw))
    return cells


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float('nan')


def main(paths):
    cells = read_runs(paths)
    if not cells:
        sys.exit('summary.py: no tconv-paired rows in ' + ' '.join(paths))
    print('| shape | dir | tconv GFLOP/s | tconv / oneDNN best (runs) | median | NCHW / NHWC |')
    print('|---|---|---|---|---|---|')
    per_dir = {d: [] for d in DIRS}
    nchw_dir = {d: [] for d in DIRS}
    for (shape, d), c in cells.items():
        med = statistics.median(c['ratio'])
        per_dir[d].append((med, shape))
        nchw = statistics.median(c['nchw']) if c['nchw'] else None
        if nchw:
            nchw_dir[d].append(nchw)
        runs = ' / '.join('%.2f' % r for r in c['ratio'])
        print('| %s | %s | %.1f | %s (%s) | **%.2f** | %s |' % (
            shape, d, statistics.median(c['gf']), runs, ','.join(c['best']), med,
            '%.2f' % nchw if nchw else '-'))
    lowest = min((m, s, d) for d in DIRS for m, s in per_dir[d])
    print('\ngeomean of the medians, tconv / oneDNN best per shape: ' +
          ' / '.join('%.2f' % geomean([m for m, _ in per_dir[d]]) for d in DIRS) +
          ' (fwd / bd / bw); lowest %.2f (%s %s)' % lowest)
    if any(nchw_dir.values()):
        print('geomean NCHW / NHWC: ' +
              ' / '.join('%.2f' % geomean(nchw_dir[d]) for d in DIRS) + ' (fwd / bd / bw)')


if __name__ == '__main__':
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__)
        sys.exit(0 if len(sys.argv) > 1 else 2)
    main(sys.argv[1:])
