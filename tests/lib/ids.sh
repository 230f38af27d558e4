# Id-list helpers shared by the archive tests (crash.t, prune.t).  An id list
# is one line of ids separated by spaces.

# union A B: the ids of two lists, sorted (duplicates kept).
union() { printf '%s %s' "$1" "$2" | tr ' ' '\n' | sed '/^$/d' | sort -n | paste -sd' '; }

# id_diff GOT WANT: nothing if the two id lists hold the same ids the same
# number of times, else the ids missing from GOT and those it has in excess
# (a duplicate shows as an excess), at most 20 of each.
id_diff() {
	local g w m x
	g=$(tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort)
	w=$(tr ' ' '\n' <<<"$2" | sed '/^$/d' | sort)
	m=$(comm -13 <(echo "$g") <(echo "$w") | sed '/^$/d' | sort -n)
	x=$(comm -23 <(echo "$g") <(echo "$w") | sed '/^$/d' | sort -n)
	[ -n "$m" ] && echo "missing $(wc -l <<<"$m"): $(head -20 <<<"$m" | paste -sd' ')"
	[ -n "$x" ] && echo "in excess $(wc -l <<<"$x"): $(head -20 <<<"$x" | paste -sd' ')"
	true
}
