#!/usr/bin/env python3
"""The house rule of docs/architecture.md, checked on a build tree: no arrow runs up a floor
(core <- layers <- optim <- tools) in any #include or call, and no files call each other in
a circle. Calls are read from the objects' symbol tables (nm): which file defines what
another file uses. Usage: house-check.py SOURCE_DIR BUILD_DIR; exit 1 on any finding."""
import collections, glob, os, re, subprocess, sys

FLOORS = {'core': 0, 'layers': 1, 'optim': 2, 'tools': 3}


def include_arrows_up(src):
    bad = []
    for floor in FLOORS:
        for path in glob.glob(os.path.join(src, floor, '**', '*.[ch]'), recursive=True):
            for inc in re.findall(r'#include "([a-z]+)/', open(path, errors='replace').read()):
                if inc in FLOORS and FLOORS[inc] > FLOORS[floor]:
                    bad.append((os.path.relpath(path, src), inc))
    return bad


def call_graph(build):
    objs = glob.glob(os.path.join(build, 'CMakeFiles', 'tconv_*_objects.dir', '**', '*.o'),
                     recursive=True)
    objs += glob.glob(os.path.join(build, 'CMakeFiles', 'tconv_toolkit.dir', '**', '*.o'),
                      recursive=True)
    defined, used = {}, collections.defaultdict(set)
    for obj in objs:
        name = obj.split('.dir' + os.sep, 1)[1][:-len('.c.o')]
        if name.split('/')[0] not in FLOORS:  # generated sources (version.c) belong to core
            name = 'core/' + os.path.basename(name)
        out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in 'TDBRVW':
                defined[f[2]] = name
            elif len(f) == 2 and f[0] == 'U':
                used[name].add(f[1])
    graph = collections.defaultdict(set)
    for name, syms in used.items():
        for sym in syms:
            if sym in defined and defined[sym] != name:
                graph[name].add(defined[sym])
    return objs, graph


def circles(graph):
    """Tarjan's strongly connected components of more than one file."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))
    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def main():
    src, build = sys.argv[1], sys.argv[2]
    objs, graph = call_graph(build)
    if len(objs) < 50:
        print(f'house-check: only {len(objs)} objects under {build}: is it built?')
        return 1
    up_inc = include_arrows_up(src)
    up_call = [(a, b) for a in graph for b in graph[a]
               if FLOORS[b.split('/')[0]] > FLOORS[a.split('/')[0]]]
    loops = circles(graph)
    for path, floor in up_inc:
        print(f'include up: {path} includes {floor}/')
    for a, b in up_call:
        print(f'call up: {a} calls {b}')
    for loop in loops:
        print('circle: ' + ' <-> '.join(loop))
    print(f'house-check: {len(objs)} objects, {sum(map(len, graph.values()))} file-to-file '
          f'calls; {len(up_inc)} includes up, {len(up_call)} calls up, {len(loops)} circles')
    return 1 if up_inc or up_call or loops else 0


if __name__ == '__main__':
    sys.exit(main())
