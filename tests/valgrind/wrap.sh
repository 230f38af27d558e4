#!/bin/sh
# make valgrind: make DIR/<program> for every program in BIN, each running
# the real one under valgrind memcheck; an error (invalid read or write, use
# of uninitialised memory, a leak, an fd left open) makes it exit 99, which
# fails the test that ran it.  Usage: wrap.sh BIN DIR
set -eu
bin=$1 dir=$2
mkdir -p "$dir"
for p in "$bin"/*; do
	name=$(basename "$p")
	cat >"$dir/$name" <<SCRIPT
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \\
    --log-file="$dir/valgrind.%p.log" "$p" "\$@"
SCRIPT
	chmod +x "$dir/$name"
done
