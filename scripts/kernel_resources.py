#!/usr/bin/env python3
"""Reports each OpenCL kernel's registers, scratch and occupancy on AMD GPUs,
measured without a GPU: every program the library can build (the texts and
build options tests/kernel_programs writes, from the library's own code) is
compiled by clang for gfx900 (GCN/Vega, wave64) and gfx1030 (RDNA2, wave32)
with the ROCm device libraries linked, as AMD's OpenCL driver would build
it, and the figures are read from clang's kernel-resource-usage remarks,
cross-checked against the AMDGPU metadata of the code object.

usage: scripts/kernel_resources.py [--build DIR] [--programs PATH]
                                   [--clang CLANG] [--device-libs DIR]
                                   [--ocloc OCLOC] [--check]

Prints a markdown table (docs/gpu-targets.md holds today's).  The builds
are those of every device type: a GPU (CL_DEVICE_TYPE_GPU) gets register
blocks of its own (src/opencl/conv.c, dense.c), every other device the
CPU-sized defaults.  A kernel whose figures differ between the builds the
library can make (GPU or CPU defaults, work-group sizes lowered for small
devices) has one row per distinct result.  --check also tests the limits
of issue 19 (no scratch in any build on either target; the hot kernels at
>= 2 waves per SIMD on gfx900) and of issue 12 (the hot kernels at >= 4
waves on gfx1030), the wave limits on the builds a GPU gets, prints each
kernel that misses one and exits 1 if any does.

With --ocloc (Intel's offline compiler, Debian intel-opencl-icd), the
builds a GPU gets are also compiled for Intel's DG2 and PVC, and every
register spill ocloc reports is listed (and, with --check, over a limit).

Needs clang 15 and Debian's rocm-device-libs (LLVM 15 bitcode, which clang
14 cannot read); scripts/setup.sh installs both.  Without them it says
which is missing and exits 77 (a skip, for meson test).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

TARGETS = ['gfx900', 'gfx1030']
DEVICE_LIBS = '/usr/lib/x86_64-linux-gnu/amdgcn/bitcode'
FLAGS = ['-x', 'cl', '-cl-std=CL1.2', '-O3', '-target', 'amdgcn-amd-amdhsa', '-S',
         '-Rpass-analysis=kernel-resource-usage']
SKIP = 77  # meson's exit status of a skipped test
# The kernels that carry the training time (issues 12 and 19).
HOT = {'conv_direct_forward', 'conv_pool_forward', 'conv_backward',
       'dense_forward', 'dense_backward'}

OCLOC_DEVICES = ['dg2', 'pvc']
OCLOC_SPILL = re.compile(r'kernel (\S+)\s+compiled (SIMD\d+) allocated (\d+) regs and spilled around (\d+)')
REMARK = re.compile(r'remark: +([^:]+): (\S+) \[-Rpass-analysis=kernel-resource-usage\]')
META_KEY = re.compile(r'^    \.(\w+):\s+(\S+)')


def remarks(log):
    """{function: {field: int}} from clang's remarks; kernels only (the
    remarks of other functions carry no LDS size)."""
    out, cur = {}, None
    for line in log.splitlines():
        m = REMARK.search(line)
        if not m:
            continue
        key, value = m.group(1).strip(), m.group(2)
        if key == 'Function Name':
            cur = out.setdefault(value, {})
        elif cur is not None:
            cur[key] = int(value)
    return {k: v for k, v in out.items() if 'LDS Size [bytes/block]' in v}


def metadata(asm):
    """{kernel: {key: str}} from the amdhsa.kernels list of the assembly."""
    out, cur, inside = {}, None, False
    for line in asm.splitlines():
        if line.startswith('amdhsa.kernels:'):
            inside = True
        elif inside and not line.startswith(' '):
            inside = False
        if not inside:
            continue
        if line.startswith('  - '):
            cur = {}
            line = '    ' + line[4:]
        m = META_KEY.match(line)
        if m and cur is not None:
            cur[m.group(1)] = m.group(2)
            if m.group(1) == 'name':
                out[m.group(2)] = cur
    return out


def measure(clang, device_libs, path, options, target, asm_path):
    """{kernel: (vgprs, sgprs, scratch, vgpr spills, sgpr spills, waves)}."""
    cmd = [clang] + FLAGS + ['-mcpu=' + target, '--rocm-device-lib-path=' + device_libs] + \
        options.split() + [path, '-o', asm_path]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit('kernel_resources: %s failed:\n%s' % (' '.join(cmd), run.stderr))
    with open(asm_path) as f:
        meta = metadata(f.read())
    rem = remarks(run.stderr)
    if set(rem) != set(meta):
        sys.exit('kernel_resources: remarks name %s, metadata %s (%s)' % (sorted(rem), sorted(meta), ' '.join(cmd)))
    out = {}
    for k, r in rem.items():
        m = meta[k]
        fig = (r['VGPRs'], r['SGPRs'], r['ScratchSize [bytes/lane]'], r['VGPRs Spill'], r['SGPRs Spill'],
               r['Occupancy [waves/SIMD]'])
        # the two accounts of the same build must agree
        if (fig[0], fig[1], fig[2], fig[3], fig[4]) != (
                int(m['vgpr_count']), int(m['sgpr_count']), int(m['private_segment_fixed_size']),
                int(m['vgpr_spill_count']), int(m['sgpr_spill_count'])):
            sys.exit('kernel_resources: %s on %s: remarks %s, metadata %s' % (k, target, fig, m))
        out[k] = fig
    return out


def ocloc_spills(ocloc, path, options, device, out_dir):
    """{kernel: (simd, registers, spilled)} of the kernels ocloc says spill."""
    cmd = [ocloc, 'compile', '-file', path, '-device', device, '-options', '-cl-std=CL1.2 ' + options,
           '-out_dir', out_dir]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit('kernel_resources: %s failed:\n%s%s' % (' '.join(cmd), run.stdout, run.stderr))
    return {m.group(1): (m.group(2), int(m.group(3)), int(m.group(4)))
            for m in OCLOC_SPILL.finditer(run.stdout + run.stderr)}


def describe(builds, group):
    """The builds of a group (indices into builds, (options, devices) each)
    per device type, by the -D values that vary between that type's
    builds; types whose parts read the same share one."""
    parts = []
    for dev in ('cpu', 'gpu'):
        mine = [i for i, b in enumerate(builds) if dev in b[1]]
        chosen = [i for i in group if i in mine]
        if not chosen:
            continue
        if chosen == mine:
            text = 'all (%d)' % len(mine)
        else:
            split = {i: builds[i][0].split() for i in mine}
            varying = [j for j in range(len(split[mine[0]])) if len({split[i][j] for i in mine}) > 1]
            names = [split[mine[0]][j][2:].split('=')[0] for j in varying]
            values = [','.join(split[i][j].split('=')[1] for j in varying) for i in chosen]
            text = '%s=%s' % (','.join(names), ' '.join(values))
        if parts and parts[-1][1] == text:
            parts[-1][0].append(dev)
        else:
            parts.append(([dev], text))
    return '; '.join('%s: %s' % (', '.join(devs), text) for devs, text in parts)


def misses(kernel, fig, on_gpu):
    """The limits of issues 19 and 12 that one build's figures miss: no
    scratch on any build; on the builds a GPU gets, the hot kernels'
    waves."""
    out = ['%d B of scratch per lane on %s' % (f[2], t) for t, f in zip(TARGETS, fig) if f[2] > 0]
    if kernel in HOT and on_gpu:
        out += ['%d wave(s) per SIMD on %s (%d VGPRs), under %d' % (f[5], t, f[0], least)
                for t, f, least in zip(TARGETS, fig, (2, 4)) if f[5] < least]
    return out


def cell(fig):
    vgprs, sgprs, scratch, vspill, sspill, waves = fig
    spills = ' (%d VGPR, %d SGPR spilled)' % (vspill, sspill) if vspill or sspill else ''
    return '%d | %d | %d%s | %d' % (vgprs, sgprs, scratch, spills, waves)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--build', default='build', help='the meson build directory (default: build)')
    p.add_argument('--programs', help='the kernel_programs tool (default: BUILD/tests/kernel_programs)')
    p.add_argument('--clang', default='clang-15')
    p.add_argument('--device-libs', default=DEVICE_LIBS, help='ROCm device library bitcode')
    p.add_argument('--ocloc', help="Intel's ocloc: also list the spills of a GPU's builds on " +
                   ', '.join(OCLOC_DEVICES))
    p.add_argument('--check', action='store_true', help='exit 1 when a kernel misses a limit')
    a = p.parse_args()
    if not shutil.which(a.clang):
        print('kernel_resources: no %s (Debian: clang-15): skipped' % a.clang)
        return SKIP
    if not os.path.exists(os.path.join(a.device_libs, 'opencl.bc')):
        print('kernel_resources: no ROCm device libraries in %s (Debian: rocm-device-libs): skipped' % a.device_libs)
        return SKIP
    programs = a.programs or os.path.join(a.build, 'tests', 'kernel_programs')

    with tempfile.TemporaryDirectory() as work:
        run = subprocess.run([programs, work], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit('kernel_resources: %s failed: %s' % (programs, run.stderr))
        # (family, path, options, devices) per build
        listed = [line.split('\t') for line in run.stdout.splitlines()]
        jobs = [(b, t) for b in range(len(listed)) for t in TARGETS]
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            figs = list(pool.map(lambda j: measure(a.clang, a.device_libs, listed[j[0]][1], listed[j[0]][2], j[1],
                                                   os.path.join(work, '%d-%s.s' % j)), jobs))
            spills = []
            if a.ocloc:
                gpu_builds = [b for b in range(len(listed)) if 'gpu' in listed[b][3].split(',')]
                ojobs = [(b, d) for b in gpu_builds for d in OCLOC_DEVICES]
                found = pool.map(lambda j: ocloc_spills(a.ocloc, listed[j[0]][1], listed[j[0]][2], j[1],
                                                        os.path.join(work, 'ocloc-%d-%s' % j)), ojobs)
                spills = [(j, k, v) for j, f in zip(ojobs, found) for k, v in sorted(f.items())]
    measured = dict(zip(jobs, figs))
    # builds[family] = [(options, devices)]; results[family][kernel] = [figures per target, per build]
    results, builds = {}, {}
    for b, (family, _, options, devices) in enumerate(listed):
        builds.setdefault(family, []).append((options, devices.split(',')))
        for k in measured[(b, TARGETS[0])]:
            results.setdefault(family, {}).setdefault(k, []).append(tuple(measured[(b, t)][k] for t in TARGETS))

    version = subprocess.run([a.clang, '--version'], capture_output=True, text=True).stdout.splitlines()[0]
    print('%s, -O3, ROCm device libraries; per target: VGPRs | SGPRs | scratch B/lane | waves/SIMD\n' % version)
    print('| kernel | builds | ' + ' | '.join('%s VGPRs | SGPRs | scratch | waves' % t for t in TARGETS) + ' |')
    print('|---|---|' + '---|---|---|---|' * len(TARGETS))
    over = []
    for family in results:
        for k, figs in results[family].items():
            distinct = []
            for i, f in enumerate(figs):
                for d in distinct:
                    if d[0] == f:
                        d[1].append(i)
                        break
                else:
                    distinct.append((f, [i]))
            for f, group in distinct:
                which = describe(builds[family], group)
                print('| %s | %s | %s |' % (k, which, ' | '.join(cell(t) for t in f)))
                on_gpu = any('gpu' in builds[family][i][1] for i in group)
                over += ['%s, builds %s: %s' % (k, which, m) for m in misses(k, f, on_gpu)]
    if a.ocloc:
        print('\n%d builds a GPU gets, compiled by ocloc for %s: %s' %
              (len(gpu_builds), ', '.join(OCLOC_DEVICES), 'no spill' if not spills else '%d spills' % len(spills)))
        for (b, dev), k, (simd, regs, spilled) in spills:
            line = '%s on %s (%s, %d registers): spilled around %d, options %s' % (k, dev, simd, regs, spilled,
                                                                                  listed[b][2])
            print('  ' + line)
            over.append(line)
    if a.check:
        print()
        for m in over:
            print('over a limit: ' + m)
        print('%d over a limit' % len(over) if over else 'every kernel within the limits')
        return 1 if over else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
