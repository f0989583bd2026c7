# at: multi-tenant algorithmic trading toolkit for Zerodha Kite Connect.
#
#   make                 build libat.a and every tool into bin/
#   make check           install missing packages, build with sanitizers, run
#                        every suite; last line "N passed, N failed"
#   make demo            the main job on the embedded ledger and the simulator
#   make bench           benchmarks (not tests)
#   make install         PREFIX=/usr/local DESTDIR=
#   make SANITIZE=address,undefined

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/at
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/vendor-completions
SYSTEMDDIR  ?= $(PREFIX)/lib/systemd/system

CC        ?= cc
PKGS      := libcurl openssl libpq libwebsockets sqlite3 liboath
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libjq 1.6 ships no .pc file: fall back to -ljq (jq.h lives in /usr/include)
JQ_CFLAGS := $(shell pkg-config --cflags libjq 2>/dev/null)
JQ_LIBS   := $(shell pkg-config --libs libjq 2>/dev/null || echo -ljq)

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla -Wwrite-strings
ifeq ($(CI),true)
WARN += -Werror
endif
CFLAGS  ?= -O2 -g
ALL_CFLAGS := $(WARN) -D_GNU_SOURCE -DAT_VERSION='"$(VERSION)"' -Ilib -Ibuild \
	$(PKG_CFLAGS) $(JQ_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(LDFLAGS)
LIBS := $(PKG_LIBS) $(JQ_LIBS) -lm -lpthread
ifneq ($(SANITIZE),)
ALL_CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SANITIZE)
endif

# Rebuild everything when the compiler or flags change (e.g. SANITIZE).
CURFLAGS := $(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS)
$(shell mkdir -p build/obj build/tests build/fuzz && \
	printf '%s\n' "$(CURFLAGS)" > build/flags.new && \
	{ cmp -s build/flags.new build/flags.stamp || mv build/flags.new build/flags.stamp; }; \
	rm -f build/flags.new)

LIB_SRC  := $(wildcard lib/*.c)
LIB_OBJ  := $(patsubst lib/%.c,build/obj/%.o,$(LIB_SRC)) build/obj/schema_sql.o
TOOLS    := $(patsubst cmd/%.c,bin/%,$(wildcard cmd/at-*.c))
TESTS    := $(patsubst tests/unit/%.c,build/tests/%,$(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ     := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
BENCH    := $(patsubst bench/%.c,build/bench/%,$(wildcard bench/bench_*.c))
SQL      := $(sort $(wildcard sql/sqlite/*.sql)) $(sort $(wildcard sql/postgres/*.sql))
MAN      := $(wildcard man/*.[1-8])

all: $(TOOLS)

build/libat.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

build/obj/%.o: lib/%.c build/flags.stamp
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

build/schema_sql.c: scripts/embed-sql $(SQL)
	scripts/embed-sql $(SQL) > $@.tmp && mv $@.tmp $@

build/obj/schema_sql.o: build/schema_sql.c lib/schema.h build/flags.stamp
	$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c -o $@ $<

bin/%: cmd/%.c build/libat.a build/flags.stamp
	@mkdir -p bin
	$(CC) $(ALL_CFLAGS) -MMD -MP -MF build/obj/$*.d -o $@ $< build/libat.a $(ALL_LDFLAGS) $(LIBS)

build/tests/%: tests/unit/%.c tests/unit/t.h build/libat.a build/flags.stamp
	$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -MF build/obj/$*.d -o $@ $< build/libat.a $(ALL_LDFLAGS) $(LIBS)

# Fuzz targets: built with a standalone replay/mutation driver for make check;
# `make fuzz` builds them for libFuzzer with clang.
build/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c build/libat.a build/flags.stamp
	$(CC) $(ALL_CFLAGS) -o $@ $< tests/fuzz/driver.c build/libat.a $(ALL_LDFLAGS) $(LIBS)

build/bench/%: bench/%.c build/libat.a build/flags.stamp
	@mkdir -p build/bench
	$(CC) $(ALL_CFLAGS) -o $@ $< build/libat.a $(ALL_LDFLAGS) $(LIBS)

tests-build: $(TOOLS) $(TESTS) $(FUZZ)

deps:
	@scripts/deps

check:
	@scripts/deps --check 2>/dev/null || scripts/deps
	$(MAKE) SANITIZE=address,undefined tests-build
	@tests/run

demo:
	@scripts/deps --check 2>/dev/null || scripts/deps
	$(MAKE) all
	@scripts/demo

bench: $(TOOLS) $(BENCH)
	@bench/run

fuzz:
	@mkdir -p build/libfuzzer
	for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib -Ibuild \
			$(PKG_CFLAGS) $$f $(LIB_SRC) build/schema_sql.c -o build/libfuzzer/$$n $(LIBS) || exit 1; \
	done
	@echo "run e.g.: build/libfuzzer/fuzz_json tests/fuzz/corpus/fuzz_json"

format-check:
	@clang-format --dry-run --Werror lib/*.[ch] cmd/*.c tests/unit/*.[ch] tests/fuzz/*.c bench/*.c

format:
	clang-format -i lib/*.[ch] cmd/*.c tests/unit/*.[ch] tests/fuzz/*.c bench/*.c

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/sql/sqlite $(DESTDIR)$(DATADIR)/sql/postgres \
		$(DESTDIR)$(DATADIR)/crontab $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDDIR)
	install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)
	for m in $(MAN); do s=$${m##*.}; install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s; done
	install -m 644 sql/sqlite/*.sql $(DESTDIR)$(DATADIR)/sql/sqlite
	install -m 644 sql/postgres/*.sql $(DESTDIR)$(DATADIR)/sql/postgres
	for f in $(wildcard crontab/*.cron); do install -m 644 $$f $(DESTDIR)$(DATADIR)/crontab; done
	for f in $(wildcard crontab/*.service crontab/*.timer); do install -m 644 $$f $(DESTDIR)$(SYSTEMDDIR); done
	for t in $(notdir $(TOOLS)); do \
		[ -f completions/$$t.bash ] && install -m 644 completions/$$t.bash $(DESTDIR)$(BASHCOMPDIR)/$$t; \
		[ -f completions/_$$t ] && install -m 644 completions/_$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	done; true

uninstall:
	for t in $(notdir $(TOOLS)); do \
		rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(BASHCOMPDIR)/$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	done
	for m in $(notdir $(MAN)); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$m; done
	for u in $(notdir $(wildcard crontab/*.service crontab/*.timer)); do rm -f $(DESTDIR)$(SYSTEMDDIR)/$$u; done
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin

.PHONY: all check demo bench fuzz deps format format-check install uninstall clean tests-build
.SECONDARY:

-include $(wildcard build/obj/*.d)
