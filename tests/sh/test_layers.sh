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

# "caller callee" for every call between two different objects: one nm
# over all objects for what each defines (global functions and data) and
# one for what each needs, joined by symbol.
# shellcheck disable=SC2046
{
    nm -A --defined-only $(cat "$W/objs") | awk '$(NF - 1) ~ /^[TDBR]$/ { sub(/:.*/, "", $1); print "D", $1, $NF }'
    nm -A --undefined-only $(cat "$W/objs") | awk '{ sub(/:.*/, "", $1); print "U", $1, $NF }'
} | awk '$1 == "D" { def[$3] = $2; next }
         { need[++n] = $2 " " $3 }
         END { for (i = 1; i <= n; i++) { split(need[i], p, " ")
                   if ((p[2] in def) && def[p[2]] != p[1]) print p[1], def[p[2]] } }' |
    sort -u >"$W/edges"

fail=0
# layer OBJECT: core, cli, ui or main.
LAYER_AWK='function layer(o) { return o == "src/main.o" ? "main" : o ~ /^src\/cli\// ? "cli" : o ~ /^ui\// ? "ui" : "core" }'
awk "$LAYER_AWK"'
     { la = layer($1); lb = layer($2)
       if ((la == "core" && lb != "core") || (la == "cli" && lb == "ui") || (la == "ui" && lb == "cli"))
           print "FAIL: layer: " $1 " (" la ") calls " $2 " (" lb ")" }' "$W/edges" >"$W/layers"
if [ -s "$W/layers" ]; then
    cat "$W/layers"
    fail=1
fi

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
# shellcheck disable=SC2046
nm -A --undefined-only $(cat "$W/objs") | awk "$LAYER_AWK"'
    { o = $1; sub(/:.*/, "", o) }
    layer(o) == "core" && $NF ~ /^(initscr|endwin|newwin|wrefresh|waddn?str|mvw?add|wgetch|getch|start_color|init_pair|cbreak|noecho|keypad|setupterm|tigetstr)/ {
        print "FAIL: core object " o " uses curses: " $NF }' >"$W/curses"
if [ -s "$W/curses" ]; then
    cat "$W/curses"
    fail=1
fi

[ "$fail" -eq 0 ] || exit 1
echo "$(wc -l <"$W/objs") objects, $(wc -l <"$W/edges") calls between them: layers kept, no circles"
echo "all checks passed"
