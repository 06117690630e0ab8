#!/bin/sh
# test_layers.sh - the structure of issue #9, checked on the objects the
# build made (nm): which object calls a function another one defines.
#   - the core (src/*.c) calls nothing of the front-ends (src/cli/, ui/),
#     and neither front-end calls the other (main.c joins them);
#   - no file-level circles: no object reaches itself through calls
#     (within src/, src/cli/ and ui/);
#   - the core archive links without curses: no core object needs a
#     curses symbol.
set -u
HD=${HOOKDESK_BIN:?set HOOKDESK_BIN to the hookdesk binary}
OBJ=$(dirname "$HD")
W=$(mktemp -d "${TMPDIR:-/tmp}/hd-layers.XXXXXX")
trap 'rm -rf "$W"' EXIT
SRC=$PWD   # the source tree (tests run from it)
cd "$OBJ" || exit 1

# Only objects whose source still exists (a build directory may keep some
# of files since renamed).
for o in src/*.o src/cli/*.o ui/*.o; do
    [ -f "$SRC/${o%.o}.c" ] && echo "$o"
done >"$W/objs"
[ -s "$W/objs" ] || { echo "FAIL: no objects under $OBJ"; exit 1; }

# "symbol object" for every global function or data an object defines.
while read -r o; do
    nm --defined-only "$o" | awk -v o="$o" 'NF == 3 && $2 ~ /[TDBR]/ { print $3, o }'
done <"$W/objs" >"$W/defs"
# "caller callee" for every call between two different objects.
while read -r o; do
    nm --undefined-only "$o" | awk '{ print $NF }' | sort -u | awk -v o="$o" '
        NR == FNR { def[$1] = $2; next }
        ($1 in def) && def[$1] != o { print o, def[$1] }' "$W/defs" -
done <"$W/objs" | sort -u >"$W/edges"

fail=0
layer() {
    case $1 in src/main.o) echo main ;; src/cli/*) echo cli ;; ui/*) echo ui ;; *) echo core ;; esac
}
while read -r a b; do
    la=$(layer "$a") lb=$(layer "$b")
    case "$la>$lb" in
    core\>cli | core\>ui | cli\>ui | ui\>cli)
        echo "FAIL: layer: $a ($la) calls $b ($lb)"
        fail=1
        ;;
    esac
done <"$W/edges"

# Circles: from each object, walk the calls; reaching the start again is one.
awk '{ out[$1] = out[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
     function reach(v,   n, i, parts) {
         if (seen[v]) return
         seen[v] = 1
         n = split(out[v], parts, " ")
         for (i = 1; i <= n; i++) {
             if (parts[i] == start) found = 1
             reach(parts[i])
         }
     }
     END {
         for (s in nodes) {
             delete seen; found = 0; start = s
             reach(s)
             if (found) print "FAIL: circle: " s " reaches itself through calls"
         }
     }' "$W/edges" | sort >"$W/circles"
if [ -s "$W/circles" ]; then
    cat "$W/circles"
    fail=1
fi

# The core needs no curses symbol.
core_curses=$(while read -r o; do
    [ "$(layer "$o")" = core ] || continue
    nm --undefined-only "$o" | awk -v o="$o" '$NF ~ /^(initscr|endwin|newwin|wrefresh|mvw?add|wgetch|getch|start_color|init_pair|cbreak|noecho|keypad)/ { print o ": " $NF }'
done <"$W/objs")
if [ -n "$core_curses" ]; then
    echo "FAIL: core objects use curses:"
    echo "$core_curses"
    fail=1
fi

[ "$fail" -eq 0 ] || exit 1
echo "$(wc -l <"$W/objs") objects, $(wc -l <"$W/edges") calls between them: layers kept, no circles"
echo "all checks passed"
