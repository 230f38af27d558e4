# Nightly batch jobs for the shop's SQLite database.
# `make` builds every program into bin/; `make test` runs unit and integration
# tests; `make check` repeats the tests on an ASan+UBSan build; `make demo`
# builds a demo database and runs every job on it.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DESTDIR   ?=

CC        ?= cc
PKGS      := sqlite3 zlib
# (Quiet: a missing pkg-config or library is named by tests/needs.sh.)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Development builds treat warnings as errors; `make WERROR=` for a packager.
WERROR    ?= -Werror
OPT       ?= -O2
CFLAGS    ?= $(OPT) -g
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
             -Wformat=2 -Wno-format-nonliteral -Wvla $(WERROR)
# Messages are cut to fixed buffers on purpose: a long path must not fail a run.
WARN      += -Wno-format-truncation
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DJOBS_VERSION='"$(VERSION)"' -Icommon -I$(BUILD) \
             $(WARN) $(PKG_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
LDLIBS    += $(PKG_LIBS) -pthread $(SAN_FLAGS)

# `make check` re-enters with BUILD/BIN pointing at a separate sanitizer tree.
BUILD     ?= build
BIN       ?= bin
SAN       ?=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

PROGRAMS  := migrate rollup_daily prune_events archive_logs expire_reservations \
             restore_archive jobs_status reconcile_stock retire_table
COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:common/%.c=$(BUILD)/common/%.o) $(BUILD)/sql_embed.o
LIB       := $(BUILD)/libjobs.a
SQL_FILES := $(sort $(wildcard sql/[0-9]*.sql))

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# Each of these first checks what it needs (tests/needs.sh: one line naming
# what is missing and the apt-get line for it, exit 2), then does its work
# as TARGET-run in a sub-make, so that the check comes first even under
# make -j.  The check of each is its own name's, or NEEDS_<target>'s.
CHECKED   := all test demo bench bench-growth valgrind stress fuzz lint
NEEDS_all := build
NEEDS_stress := test
NEEDS_bench-growth := bench
.PHONY: FORCE programs unit integration check install uninstall clean fuzz-smoke \
        $(CHECKED) $(CHECKED:%=%-run)

$(CHECKED):
	@sh tests/needs.sh $(or $(NEEDS_$@),$@) $@
	@$(MAKE) --no-print-directory $@-run

all-run: programs

programs: $(PROGRAMS:%=$(BIN)/%)

$(BUILD)/common/%.o: common/%.c $(wildcard common/*.h) | $(BUILD)/common
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The migrations are compiled into the binary: an installed `migrate` needs no
# files beside it.  The list of files is a prerequisite too (rewritten only
# when it changes), so a migration removed or renamed is not left embedded.
SQL_LIST  := $(BUILD)/sql_files.list
$(SQL_LIST): FORCE | $(BUILD)
	@echo '$(SQL_FILES)' | cmp -s - $@ || echo '$(SQL_FILES)' > $@

$(BUILD)/sql_embed.c: $(SQL_FILES) $(SQL_LIST) sql/embed.sh | $(BUILD)
	@sh sql/embed.sh $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/sql_embed.o: $(BUILD)/sql_embed.c
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(COMMON_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(BIN)/%: jobs/%.c $(LIB) $(wildcard common/*.h) | $(BIN)
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(LIB) | $(BUILD)/tests
	@echo "  CCLD    $@"
	@$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

$(BUILD) $(BUILD)/common $(BUILD)/tests $(BIN):
	mkdir -p $@

unit: $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

integration: programs
	@JOBS_BIN=$(abspath $(BIN)) prove -f tests/t/

# One total at the end: unit suites (cmocka) then integration (TAP via prove).
test-run: programs $(UNIT_BIN)
	@sh tests/run-all.sh "$(abspath $(BIN))" $(UNIT_BIN)

check:
	@sh tests/needs.sh check
	$(MAKE) BUILD=build/san BIN=build/san/bin SAN=1 OPT=-O1 test-run

# Every program under valgrind memcheck on its main and error paths (about a
# minute; the whole suite under valgrind would take an hour).
valgrind-run: programs
	@rm -rf $(BUILD)/valgrind
	@sh tests/valgrind/wrap.sh $(abspath $(BIN)) $(abspath $(BUILD))/valgrind
	@bash tests/valgrind/smoke.sh $(abspath $(BUILD))/valgrind

# The kill -9 loops of make test, ten times longer, and the whole syscall
# fault matrix: every pwrite64, a ten-day fixture (about 20 minutes).
stress-run: programs
	CRASH_TRIALS=200 CRASH_LOG_TRIALS=50 EXPIRE_TRIALS=150 \
	    FAULT_EVENTS=600 FAULT_DAYS=10 FAULT_PWRITE_STEP=1 FAULT_MAX_K=5000 FAULT_TRIALS=10 \
	    JOBS_BIN=$(abspath $(BIN)) prove -v tests/t/crash.t tests/t/expire.t tests/t/faults.t

demo-run: programs
	@sh tests/demo.sh "$(abspath $(BIN))"

# SPEC 7 ratios against the naive sqlite3-shell way; BENCH_SCALE=0.1 is quick.
bench-run: programs
	@bash bench/run.sh "$(abspath $(BIN))"

# Rollup of a day and prune per million rows at 1M, 3M and 10M events.
bench-growth-run: programs
	@bash bench/growth.sh "$(abspath $(BIN))"

install: all
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(PROGRAMS:%=$(BIN)/%) $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(PROGRAMS:%=$(DESTDIR)$(BINDIR)/%)
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))

# libFuzzer harnesses (tests/fuzz/): the parsers are compiled from source with
# clang and ASan+UBSan (not from the gcc-built $(LIB)); each runs FUZZ_SECONDS
# on its seed corpus.  New inputs go to build/fuzz/corpus/, crashes and failed
# properties to tests/fuzz/crashes/ (rerun one: build/fuzz/NAME FILE).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_DIR     := build/fuzz
FUZZERS      := fuzz_timefmt fuzz_cli
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -DJOBS_VERSION='"$(VERSION)"' -Icommon \
                $(WARN) -Wno-unknown-warning-option -g -O1 \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer

$(FUZZ_DIR)/fuzz_timefmt: tests/fuzz/fuzz_timefmt.c common/timefmt.c
$(FUZZ_DIR)/fuzz_cli: tests/fuzz/fuzz_cli.c common/cli.c common/log.c common/timefmt.c
$(FUZZ_DIR)/fuzz_%: $(wildcard common/*.h)
	@mkdir -p $(@D)
	@echo "  FUZZCC  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

fuzz-run: $(FUZZERS:%=$(FUZZ_DIR)/%)
	@mkdir -p tests/fuzz/crashes
	@for f in $(FUZZERS); do \
	    echo "  FUZZ    $$f ($(FUZZ_SECONDS)s)"; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$f || exit 1; \
	    $(FUZZ_DIR)/$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -print_final_stats=1 -dict=tests/fuzz/$$f.dict \
	        -artifact_prefix=tests/fuzz/crashes/$$f- \
	        $(FUZZ_DIR)/corpus/$$f tests/fuzz/corpus/$$f || exit 1; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=10

# Static analysis; any finding fails.  cppcheck: suppressions, each with its
# reason, in .cppcheck-suppressions (it reads no system headers, so float.h's
# LDBL_MANT_DIG is given for timefmt.c's #if; x86-64 long double).
# clang-tidy: checks and exclusions, each with its reason, in .clang-tidy;
# the compile flags are the build's.
CPPCHECK   ?= cppcheck
CLANG_TIDY ?= clang-tidy
LINT_SRC   := $(wildcard common/*.c jobs/*.c)

# Both tools always run, so one pass shows every finding.
lint-run: $(BUILD)/sql_embed.c
	@rc=0; \
	echo "  CPPCHECK common jobs"; \
	$(CPPCHECK) --enable=warning,style,performance,portability \
	    --error-exitcode=1 --inline-suppr --quiet \
	    --suppressions-list=.cppcheck-suppressions \
	    --template='{file}:{line}: {severity}: {id}: {message}' \
	    --std=c11 -D_GNU_SOURCE -DJOBS_VERSION='"$(VERSION)"' \
	    -DLDBL_MANT_DIG=64 -I common -I $(BUILD) common jobs || rc=1; \
	echo "  TIDY    common/*.c jobs/*.c"; \
	$(CLANG_TIDY) --quiet --warnings-as-errors='*' $(LINT_SRC) -- \
	    -std=c11 -D_GNU_SOURCE -DJOBS_VERSION='"$(VERSION)"' -Icommon \
	    -I$(BUILD) $(PKG_CFLAGS) || rc=1; \
	exit $$rc

clean:
	rm -rf build bin demo bench/data
