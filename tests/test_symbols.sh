#!/bin/bash
# The library's surface as an embedding application sees it:
#  - libclcnn.so exports only clcnn_ symbols, and every function the header
#    declares with CLCNN_API is exported (and nothing else is);
#  - the header compiles cleanly as C11 and as C++11 (-Wall -Wextra -Werror
#    -pedantic), and a program linked against the shared library gets the
#    header's version from clcnn_version() at run time;
#  - no writable global data (libclcnn.a): every object nm lists as data or
#    bss ([BbDd]) must live in a .data.rel.ro section, i.e. be const data
#    that holds pointers and is read-only once relocated.
#
#   tests/test_symbols.sh path/to/libclcnn.so path/to/libclcnn.a path/to/include
#
# Exit 0: all passed; 1: a failure (each printed); 77: skipped (no nm).
set -u

SO=${1:?usage: test_symbols.sh libclcnn.so libclcnn.a include-dir}
AR=${2:?usage: test_symbols.sh libclcnn.so libclcnn.a include-dir}
INC=${3:?usage: test_symbols.sh libclcnn.so libclcnn.a include-dir}
HEADER=$INC/clcnn.h
CL_HEADER=$INC/clcnn_opencl.h # clcnn_ctx_create_opencl & co. (needs <CL/cl.h>)
CC=${CC:-cc}
CXX=${CXX:-g++}

if ! command -v nm >/dev/null || ! command -v objdump >/dev/null; then
    echo "skipping: nm/objdump (binutils) not found"
    exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/clcnn-test-symbols-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

failures=0
pass() { echo "ok   - $1"; }
fail() { echo "FAIL - $1"; failures=$((failures + 1)); }

# ------------------------------------------------------------ exports
nm -D --defined-only "$SO" | awk '{print $NF}' | sort -u >"$WORK/exported"
if [ ! -s "$WORK/exported" ]; then
    fail "nm -D found no symbols in $SO"
fi
foreign=$(grep -v '^clcnn_' "$WORK/exported")
if [ -z "$foreign" ]; then
    pass "$(wc -l <"$WORK/exported") exported symbols, all clcnn_"
else
    fail "exported symbols without the clcnn_ prefix:"
    echo "$foreign" | sed 's/^/       /'
fi

# Function names declared with CLCNN_API (declarations may span lines; the
# name is the identifier just before the first parenthesis).
cat "$HEADER" "$CL_HEADER" | grep -E '^[[:space:]]*CLCNN_API[[:space:]]' |
    sed -E 's/\(.*//; s/.*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*$/\1/' | sort -u >"$WORK/declared"
if [ "$(wc -l <"$WORK/declared")" -lt 10 ]; then
    fail "found only $(wc -l <"$WORK/declared") CLCNN_API declarations in $HEADER"
fi
missing=$(comm -23 "$WORK/declared" "$WORK/exported")
extra=$(comm -13 "$WORK/declared" "$WORK/exported")
if [ -z "$missing" ]; then
    pass "every one of the $(wc -l <"$WORK/declared") CLCNN_API functions is exported"
else
    fail "declared in clcnn.h or clcnn_opencl.h but not exported:"
    echo "$missing" | sed 's/^/       /'
fi
if [ -z "$extra" ]; then
    pass "nothing is exported that clcnn.h and clcnn_opencl.h do not declare"
else
    fail "exported but not declared with CLCNN_API in clcnn.h or clcnn_opencl.h:"
    echo "$extra" | sed 's/^/       /'
fi

# ------------------------------------------------------------- header
cat >"$WORK/use.c" <<'EOF'
#include <clcnn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *v = clcnn_version();
    if (!v || strcmp(v, CLCNN_VERSION_STRING) != 0) {
        printf("clcnn_version() = \"%s\", header says \"%s\"\n", v ? v : "(null)", CLCNN_VERSION_STRING);
        return 1;
    }
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", CLCNN_VERSION_MAJOR, CLCNN_VERSION_MINOR, CLCNN_VERSION_PATCH);
    if (strcmp(v, want) != 0) {
        printf("CLCNN_VERSION_STRING \"%s\" disagrees with the MAJOR/MINOR/PATCH macros (%s)\n", v, want);
        return 1;
    }
    if (strcmp(clcnn_status_str(CLCNN_OK), "success") != 0)
        return 1;
    printf("%s\n", v);
    return 0;
}
EOF
if command -v "$CC" >/dev/null; then
    if "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -I"$INC" -c "$WORK/use.c" -o "$WORK/use_c.o" 2>"$WORK/cc.err"; then
        pass "clcnn.h compiles as C11 (-Wall -Wextra -Werror -pedantic)"
    else
        fail "clcnn.h as C11:"
        sed 's/^/       /' "$WORK/cc.err"
    fi
    # Every function's prototype, one by one, is usable from C (no
    # K&R-style empty parameter lists).
    if "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -Wstrict-prototypes -Wmissing-prototypes \
        -I"$INC" -fsyntax-only -x c "$HEADER" 2>"$WORK/cc2.err"; then
        pass "clcnn.h alone is clean with -Wstrict-prototypes"
    else
        fail "clcnn.h with -Wstrict-prototypes:"
        sed 's/^/       /' "$WORK/cc2.err"
    fi
    # clcnn.h needs no OpenCL headers; clcnn_opencl.h, where they are installed.
    if grep -qE '#[[:space:]]*include[[:space:]]*[<"](CL|OpenCL)/' "$HEADER"; then
        fail "clcnn.h includes OpenCL headers (only clcnn_opencl.h may)"
    else
        pass "clcnn.h includes no OpenCL headers"
    fi
    if echo '#include <CL/cl.h>' | "$CC" -E -x c - >/dev/null 2>&1; then
        HAVE_CL_H=1
        for lang in c c++; do
            case $lang in
            c) std=c11 comp=$CC ;;
            *) std=c++11 comp=$CXX ;;
            esac
            command -v "$comp" >/dev/null || continue
            if "$comp" -std=$std -Wall -Wextra -Werror -pedantic -DCL_TARGET_OPENCL_VERSION=120 -I"$INC" \
                -fsyntax-only -x $lang "$CL_HEADER" 2>"$WORK/clh.err"; then
                pass "clcnn_opencl.h alone compiles as $lang ($std, -Wall -Wextra -Werror -pedantic)"
            else
                fail "clcnn_opencl.h as $lang:"
                sed 's/^/       /' "$WORK/clh.err"
            fi
        done
    else
        HAVE_CL_H=0
        echo "skip - no <CL/cl.h>: clcnn_opencl.h not compiled"
    fi
    # Run time: the shared library's version is the header's.
    if "$CC" -std=c11 -I"$INC" "$WORK/use.c" -o "$WORK/use" "$SO" -Wl,-rpath,"$(dirname "$SO")" 2>"$WORK/ld.err"; then
        if out=$("$WORK/use" 2>&1); then
            pass "clcnn_version() at run time is $out, as the header says"
        else
            fail "version check program: $out"
        fi
    else
        fail "linking a program against $SO:"
        sed 's/^/       /' "$WORK/ld.err"
    fi
else
    echo "skip - no C compiler ($CC) for the header checks"
fi
if command -v "$CXX" >/dev/null; then
    if "$CXX" -std=c++11 -Wall -Wextra -Werror -pedantic -x c++ -I"$INC" -c "$WORK/use.c" -o "$WORK/use_cxx.o" \
        2>"$WORK/cxx.err"; then
        pass "clcnn.h compiles as C++11 (-Wall -Wextra -Werror -pedantic)"
        # extern "C": the C++ object refers to the unmangled names.
        if nm "$WORK/use_cxx.o" | grep -q ' U clcnn_version$'; then
            pass "C++ callers see unmangled names (extern \"C\")"
        else
            fail "C++ object does not refer to the unmangled clcnn_version"
        fi
    else
        fail "clcnn.h as C++11:"
        sed 's/^/       /' "$WORK/cxx.err"
    fi
else
    echo "skip - no C++ compiler ($CXX) for the C++ header check"
fi

# ------------------------------------------------- docs/api.md snippets
# Every ```c block of docs/api.md is a complete translation unit.
API_MD=$INC/../docs/api.md
if [ -f "$API_MD" ] && command -v "$CC" >/dev/null; then
    mkdir -p "$WORK/snippets"
    awk -v dir="$WORK/snippets" '/^```c$/ { n++; f = sprintf("%s/snippet%02d.c", dir, n); inb = 1; next }
                                 /^```$/ { inb = 0; next }
                                 inb { print > f }' "$API_MD"
    nsnip=0
    snip_bad=0
    for f in "$WORK"/snippets/snippet*.c; do
        [ -f "$f" ] || continue
        nsnip=$((nsnip + 1))
        if [ "${HAVE_CL_H:-0}" = 0 ] && grep -q 'clcnn_opencl.h' "$f"; then
            echo "skip - docs/api.md snippet $nsnip needs <CL/cl.h>"
            continue
        fi
        if ! "$CC" -std=c11 -Wall -Wextra -Werror -pedantic -D_POSIX_C_SOURCE=200809L -I"$INC" -c "$f" \
            -o "$WORK/snippet.o" 2>"$WORK/snippet.err"; then
            fail "docs/api.md snippet $nsnip does not compile:"
            sed 's/^/       /' "$WORK/snippet.err"
            snip_bad=1
        fi
    done
    if [ "$nsnip" -eq 0 ]; then
        fail "no C snippets found in docs/api.md"
    elif [ "$snip_bad" -eq 0 ]; then
        pass "the $nsnip C snippets of docs/api.md compile"
    fi
fi

# ------------------------------------------------- writable global data
# nm's [BbDd] are .bss/.data symbols; objdump -t names the section of each.
# Const objects that hold pointers (ops tables, name tables) are placed in
# .data.rel.ro(.local) in position-independent code: writable only while
# the dynamic loader relocates them, read-only after (RELRO).  Anything else
# is mutable process-wide state, which the library must not have.
listed=$(nm -A "$AR" 2>/dev/null | grep -E ' [BbDd] ')
echo "nm $AR | grep ' [BbDd] ':"
if [ -n "$listed" ]; then
    echo "$listed" | sed -E 's/^[^:]*://; s/^/       /'
else
    echo "       (nothing)"
fi
objdump -t "$AR" 2>/dev/null |
    awk '$1 ~ /^[0-9a-f]+$/ && ($0 ~ / O / || $0 ~ /\*COM\*/) {
             for (i = 2; i <= NF; i++) if ($i ~ /^(\.|\*COM\*)/) { sec = $i; break }
             print sec, $NF
         }' |
    grep -E '^(\.data|\.bss|\.tbss|\.tdata|\*COM\*)' | grep -vE '^\.data\.rel\.ro' >"$WORK/writable"
if [ -s "$WORK/writable" ]; then
    fail "writable global or static data in libclcnn.a (section, symbol):"
    sed 's/^/       /' "$WORK/writable"
else
    pass "no writable global data (the items above, if any, are all in .data.rel.ro)"
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures failure(s)"
    exit 1
fi
echo "all passed"
exit 0
