#!/usr/bin/python3
"""bench-records.py RAW_DIR SHAPES "THREADS" "ISAS": the markdown tables of
tools/bench-records.sh from its raw files (tconv CSV, ONEDNN and TORCH lines).

Per configuration: each tconv cell is the median of its NHWC runs; oneDNN's cell is the
best of its three layouts for that shape (and the layout best by geomean is named too);
PyTorch's is the better of NCHW and channels_last. Ratios are tconv / anchor per cell,
geomeans over the shapes, and the lowest cell."""
import math
import os
import re
import statistics
import sys

PRIMS = ('fwd', 'bwd_data', 'bwd_weights')
KV = re.compile(r'(\w+)=(\S+)')


def shape_names(path):
    out = []
    for line in open(path):
        f = line.split('#', 1)[0].split()
        if f:
            out.append(f[0])
    return out


def tconv_csv(path):
    """shape -> (fwd, bwd_data, bwd_weights) GFLOP/s, and the plan line of each shape."""
    res, plans = {}, {}
    if not os.path.exists(path):
        return res, plans
    for line in open(path):
        if line.startswith('#') or line.startswith('shape,'):
            continue
        f = line.rstrip('\n').split(',')
        if len(f) >= 11:
            res[f[0]] = tuple(float(v) for v in f[2:5])
            plans[f[0]] = f[10]
    return res, plans


def anchor_lines(path, prefix, key):
    """(variant, shape, prim) -> GFLOP/s from ONEDNN / TORCH lines."""
    res = {}
    if not os.path.exists(path):
        return res
    for line in open(path):
        if line.startswith(prefix + ' '):
            d = dict(KV.findall(line))
            res[(d[key], d['shape'], d['prim'])] = float(d['gflops'])
    return res


def geomean(v):
    v = [x for x in v if x and x > 0]
    return math.exp(sum(math.log(x) for x in v) / len(v)) if v else float('nan')


def fmt(x, nd=2):
    return '-' if x is None or (isinstance(x, float) and math.isnan(x)) else '%.*f' % (nd, x)


def g(x):
    return '-' if x is None else ('%.0f' % x if x >= 10 else '%.1f' % x)


def best_of(anchor, variants, shape, prim):
    vals = [(anchor[(v, shape, prim)], v) for v in variants if (v, shape, prim) in anchor]
    return max(vals) if vals else (None, None)


def config_table(raw, cfg, shapes, summary):
    runs = [tconv_csv(os.path.join(raw, '%s.tconv-nhwc-%s.csv' % (cfg, t))) for t in 'abc']
    runs = [r for r in runs if r[0]]
    if not runs:
        print('\n(no tconv results for %s)' % cfg)
        return
    plans = runs[0][1]
    tc = {s: tuple(statistics.median(r[0][s][i] for r in runs if s in r[0]) for i in range(3))
          for s in shapes if all(s in r[0] for r in runs)}
    nchw, _ = tconv_csv(os.path.join(raw, '%s.tconv-nchw-a.csv' % cfg))
    dn = anchor_lines(os.path.join(raw, '%s.onednn.log' % cfg), 'ONEDNN', 'layout')
    pt = anchor_lines(os.path.join(raw, '%s.torch.log' % cfg), 'TORCH', 'fmt')
    layouts = ('any', 'nhwc', 'plain')
    fmts = ('nchw', 'cl')
    print('\n### %s: %d tconv runs (median per cell)\n' % (cfg, len(runs)))
    print('| shape | tconv f/bd/bw | oneDNN best per shape (layouts) | PyTorch best (fmt) '
          '| tconv / oneDNN best | tconv / PyTorch best | tconv NCHW | tconv plan |')
    print('|---|---|---|---|---|---|---|---|')
    r_dn = {p: [] for p in PRIMS}
    r_pt = {p: [] for p in PRIMS}
    r_nchw = {p: [] for p in PRIMS}
    low = (float('inf'), None)
    for s in shapes:
        if s not in tc:
            continue
        cells = []
        for i, p in enumerate(PRIMS):
            d, dl = best_of(dn, layouts, s, p)
            q, ql = best_of(pt, fmts, s, p)
            rd = tc[s][i] / d if d else None
            rq = tc[s][i] / q if q else None
            rn = nchw[s][i] / q if (s in nchw and (q is not None)) else None
            if rd is not None:
                r_dn[p].append(rd)
                low = min(low, (rd, '%s %s' % (s, p)))
            if rq is not None:
                r_pt[p].append(rq)
            if rn is not None:
                r_nchw[p].append(rn)
            cells.append((d, dl, q, ql, rd, rq))
        print('| %s | %s | %s | %s | %s | %s | %s | %s |' % (
            s, '/'.join(g(v) for v in tc[s]),
            '/'.join(g(c[0]) for c in cells) + ' (' + ','.join(c[1] or '-' for c in cells) + ')',
            '/'.join(g(c[2]) for c in cells) + ' (' + ','.join(c[3] or '-' for c in cells) + ')',
            '/'.join(fmt(c[4]) for c in cells), '/'.join(fmt(c[5], 1) for c in cells),
            '/'.join(g(v) for v in nchw[s]) if s in nchw else '-', plans.get(s, '')))
    gd = [geomean(r_dn[p]) for p in PRIMS]
    gp = [geomean(r_pt[p]) for p in PRIMS]
    gn = [geomean(r_nchw[p]) for p in PRIMS]
    # oneDNN's best single layout by geomean, per direction
    by_layout = []
    for p in PRIMS:
        best = None
        for l in layouts:
            vals = [dn.get((l, s, p)) for s in tc]
            if all(vals):
                gm = geomean([tc[s][PRIMS.index(p)] / dn[(l, s, p)] for s in tc])
                gl = geomean(vals)
                if best is None or gl > best[0]:
                    best = (gl, l, gm)
        by_layout.append(best)
    print('\ngeomean tconv / oneDNN best per shape: **%s**; lowest cell %s %s' % (
        ' / '.join(fmt(x) for x in gd), fmt(low[0]), low[1] or '-'))
    print('geomean tconv / oneDNN best layout by geomean: %s (%s)' % (
        ' / '.join(fmt(b[2]) if b else '-' for b in by_layout),
        ', '.join(b[1] if b else '-' for b in by_layout)))
    print('geomean tconv / PyTorch best format: %s; tconv NCHW / PyTorch best: %s' % (
        ' / '.join(fmt(x) for x in gp), ' / '.join(fmt(x) for x in gn)))
    summary.append((cfg, gd, low, gp, gn))


def main():
    raw, shapes_file, threads, isas = sys.argv[1:5]
    meta = {}
    for line in open(os.path.join(raw, 'meta.txt')):
        k, _, v = line.rstrip('\n').partition(' ')
        meta[k] = v
    shapes = shape_names(shapes_file)
    print('## Benchmark records, %s (commit %s)\n' % (meta.get('date', '?'), meta.get('commit', '?')))
    print('- machine: %s, CPU family %s, %s CPUs; ISA flags: %s' % (
        meta.get('lscpu_model', '?'), meta.get('lscpu_family', '?'), meta.get('lscpu_cpus', '?'),
        meta.get('lscpu_flags', '?')))
    print('- caches: %s' % meta.get('caches', '?'))
    pin = meta.get('pin_cpu_1thread', 'none')
    print('- 1-thread runs (tconv and anchors): %s' % ('pinned to CPU ' + pin if pin not in ('', 'none') else 'not pinned'))
    print('- load average (1, 5, 15 min) at start %s, at end %s; %s s in all; %s' % (
        meta.get('load_start', '?'), meta.get('load_end', '?'), meta.get('seconds', '?'),
        meta.get('reps', '')))
    print('- GFLOP/s f/bd/bw = forward / backward data / backward weights, medians; '
          'FLOPs = 2*N*Hin*Win*Cin*Cout*kh*kw')
    summary = []
    for t in threads.split():
        for isa in isas.split():
            config_table(raw, 't%s-%s' % (t, isa), shapes, summary)
    print('\n### Summary (geomeans f / bd / bw)\n')
    print('| config | tconv / oneDNN best per shape | lowest cell | tconv / PyTorch best '
          '| tconv NCHW / PyTorch best |')
    print('|---|---|---|---|---|')
    for cfg, gd, low, gp, gn in summary:
        print('| %s | %s | %s %s | %s | %s |' % (
            cfg, ' / '.join(fmt(x) for x in gd), fmt(low[0]), low[1] or '-',
            ' / '.join(fmt(x) for x in gp), ' / '.join(fmt(x) for x in gn)))


if __name__ == '__main__':
    main()
