# offsite: GNU make, no autotools.
#
#   make                 build ./offsite
#   make check           ASan+UBSan build, then every test (unit, cli, integration)
#                        (STRESS=1: beside a CPU hog on every core; each test
#                        file stopped after TEST_TIMEOUT seconds, default 600)
#   make check-unit      the tests that need no server
#   make check-valgrind  the unit suite and the fuzz corpus replay, built
#                        without sanitizers, under valgrind
#   make coverage        gcov build (build/coverage), every test, then line and
#                        branch coverage per module and agent room; reports in
#                        build/coverage/report/ (COVERAGE_TESTS=unit: only the
#                        unit and cli tests, a few minutes)
#   make fuzz            libFuzzer (clang) on every fuzz target, FUZZ_SECONDS
#                        each (default 60), on a copy of its corpus
#   make lint            clang-format check, include rule, banned calls, gcc -fanalyzer
#   make deps            install the Debian packages the build and tests need
#   make demo            the main job on throwaway local servers
#   make bench           end-to-end benchmark vs pg_dump|gzip|openssl|aws (~1 GB)
#   make install         PREFIX=/usr/local DESTDIR= (see below for the paths)
#   make uninstall       removes what install placed, except the config
#   make deb             build/deb/offsite_VERSION_ARCH.deb (dpkg-deb)
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, PREFIX, DESTDIR.
# WERROR=0 turns warnings back into warnings (they are errors by default).

CC       ?= cc
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/offsite
# systemd reads units from /usr/local/lib/systemd/system too; the Debian
# package puts them in /lib/systemd/system.
UNITDIR  ?= $(PREFIX)/lib/systemd/system
# systemd-tmpfiles reads /usr/local/lib/tmpfiles.d too (the lock directory).
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# The configuration is in /etc whatever PREFIX is: the units and the
# program's default (-c) name /etc/offsite/offsite.ini.
SYSCONFDIR ?= /etc
CONFDIR  := $(SYSCONFDIR)/offsite
DESTDIR  ?=
WERROR   ?= 1
VERSION  := 0.1.0

PKGS := libcurl openssl libxml-2.0 zlib libpq inih jansson libisal libdeflate
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
TEST_LIBS  := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

# The warning list. Each one catches a class of bug we have seen elsewhere.
WARNINGS := \
	-Wall -Wextra \
	-Wformat=2 \
	-Wshadow \
	-Wmissing-prototypes \
	-Wstrict-prototypes \
	-Wold-style-definition \
	-Wvla \
	-Wimplicit-fallthrough \
	-Wpointer-arith \
	-Wcast-qual \
	-Wundef \
	-Wwrite-strings \
	-Wnull-dereference \
	-Wduplicated-cond \
	-Wlogical-op
# -Wformat=2: non-literal format strings and format/argument mismatches.
# -Wshadow: a local that hides another is a bug waiting to happen.
# -Wmissing-prototypes: every non-static function is declared in a header.
# -Wvla: no stack allocation sized by input.
# -Wimplicit-fallthrough: a switch case that falls through says so.
# -Wcast-qual: casting away const hides writes to read-only data.
# -Wwrite-strings: string literals are const.
# -Wnull-dereference, -Wduplicated-cond, -Wlogical-op: gcc's cheap flow checks.
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

STD      := -std=c11 -D_GNU_SOURCE
# Hardening for the release build (Debian's defaults, spelled out).
HARDEN   := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	    -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer

# The builds, side by side: release (./offsite), check (sanitizers),
# valgrind (no sanitizers: valgrind cannot run ASan's code), coverage
# (gcov, -O0 so each line counts as written, no sanitizers) and fuzz
# (clang, libFuzzer's coverage instrumentation; FUZZ_CC, default clang).
MODE ?= release
FUZZ_CC ?= clang
ifeq ($(MODE),check)
BUILD    := build/check
OPT      := -O1 -g $(SANITIZE)
MODE_LD  := $(SANITIZE)
else ifeq ($(MODE),valgrind)
BUILD    := build/valgrind
OPT      := -O1 -g
MODE_LD  :=
else ifeq ($(MODE),coverage)
BUILD    := build/coverage
# Atomic counters: the upload and the source run threads, and racing
# increments leave counts gcovr cannot read.
OPT      := -O0 -g --coverage -fprofile-update=atomic
MODE_LD  := --coverage
else ifeq ($(MODE),fuzz)
CC       := $(FUZZ_CC)
BUILD    := build/fuzz
OPT      := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer
MODE_LD  := -fsanitize=fuzzer,address,undefined
# gcc's flow checks, which clang does not have; and clang does not take
# the tree's "fall through" comments (gcc checks those in every build).
WARNINGS := $(filter-out -Wduplicated-cond -Wlogical-op \
	      -Wimplicit-fallthrough,$(WARNINGS))
else
BUILD    := build/release
OPT      := -O2 -g $(HARDEN)
MODE_LD  := $(HARDEN_LD)
endif

ALL_CPPFLAGS = -I. -DOFFSITE_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(STD) $(OPT) $(WARNINGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS  = $(MODE_LD) $(LDFLAGS)

# The modules, in dependency order: each may use only those after it.
MODULES   := agent retention s3 conf common
AGENT_ROOMS := cmd pipe proc repo ops
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c \
	       $(AGENT_ROOMS:%=agent/%/*.c)))
LIB_SRC   := $(AGENT_SRC) $(wildcard retention/*.c s3/*.c conf/*.c common/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/agent/main.o

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRC := $(wildcard tests/integration/itest_*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tests/harness/*.c)
TOOL_BIN  := $(TOOL_SRC:tests/harness/%.c=$(BUILD)/tests/%)
# Fuzz targets: each is linked twice, with libFuzzer (make fuzz) and with
# the replay driver, which runs it over its corpus in every make check.
FUZZ_SRC  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(FUZZ_SRC:tests/fuzz/%.c=%)
FUZZ_BIN  := $(FUZZ_NAMES:%=build/fuzz/tests/%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(BUILD)/tests/replay_%)
FUZZ_SECONDS ?= 60

.PHONY: all check check-unit check-build check-valgrind coverage fuzz lint format deps demo bench install uninstall deb clean

all: offsite

offsite: build/release/offsite
	cp $< $@

$(BUILD)/offsite: $(MAIN_OBJ) $(BUILD)/liboffsite.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(MAIN_OBJ) $(BUILD)/liboffsite.a $(PKG_LIBS) $(LDLIBS)

$(BUILD)/liboffsite.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(SUPPORT_OBJ) $(BUILD)/liboffsite.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(SUPPORT_OBJ) $(BUILD)/liboffsite.a $(TEST_LIBS) $(PKG_LIBS) \
		$(LDLIBS)

$(BUILD)/tests/itest_%: tests/integration/itest_%.c $(SUPPORT_OBJ) $(BUILD)/liboffsite.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(SUPPORT_OBJ) $(BUILD)/liboffsite.a $(TEST_LIBS) $(PKG_LIBS) \
		$(LDLIBS)

$(BUILD)/tests/replay_fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/tests/fuzz/replay.o $(BUILD)/liboffsite.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		$(BUILD)/tests/fuzz/replay.o $(BUILD)/liboffsite.a $(PKG_LIBS) \
		$(LDLIBS)

build/fuzz/tests/fuzz_%: tests/fuzz/fuzz_%.c build/fuzz/liboffsite.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< \
		build/fuzz/liboffsite.a $(PKG_LIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# Everything the tests run, built with sanitizers.
check-build:
	@$(MAKE) --no-print-directory MODE=check build/check/offsite \
		$(patsubst build/release/%,build/check/%,$(UNIT_BIN) $(ITEST_BIN) $(TOOL_BIN) $(REPLAY_BIN))

check: check-build
	@bash tests/run --build build/check

check-unit: check-build
	@bash tests/run --build build/check --no-servers

# The tests that need no server, and the corpus replay, under valgrind
# (tests/valgrind.supp says why each suppression is there).
check-valgrind:
	@$(MAKE) --no-print-directory MODE=valgrind \
		$(patsubst build/release/%,build/valgrind/%,$(UNIT_BIN) $(REPLAY_BIN))
	@bash tests/valgrind --build build/valgrind

# Every test (as make check runs them) on a gcov build, then line and
# branch coverage per module and agent room (tests/coverage).
# COVERAGE_TESTS=unit: only the tests that need no server.
COVERAGE_TESTS ?= all
coverage:
	@$(MAKE) --no-print-directory MODE=coverage build/coverage/offsite \
		$(patsubst build/release/%,build/coverage/%,$(UNIT_BIN) $(ITEST_BIN) $(TOOL_BIN) $(REPLAY_BIN))
	@bash tests/coverage --build build/coverage --tests $(COVERAGE_TESTS)

fuzz:
	@$(MAKE) --no-print-directory MODE=fuzz $(FUZZ_BIN)
	@bash tests/fuzz/run --seconds $(FUZZ_SECONDS) $(FUZZ_NAMES)

lint:
	@bash tests/lint

format:
	clang-format -i $(wildcard */*.c */*.h */*/*.c */*/*.h)

deps:
	@bash tests/harness/deps

# The main job, end to end, on throwaway local servers.
demo: deps
	@$(MAKE) --no-print-directory offsite build/release/tests/freeport
	@bash tests/demo

bench: deps
	@$(MAKE) --no-print-directory offsite build/release/tests/freeport
	@bash tests/bench/e2e

UNITS     := $(wildcard packaging/systemd/*.service packaging/systemd/*.timer \
	       packaging/systemd/*.d/*.conf)
MANPAGES  := packaging/man/offsite.1 packaging/man/offsite.ini.5

# Units name /usr/bin/offsite and /etc/offsite; installed, they name
# BINDIR and CONFDIR. tmpfiles.d/offsite.conf makes the lock directory
# /run/offsite at boot (systemd-tmpfiles --create offsite.conf makes it
# now). The example config is installed once, mode 0640,
# never over an existing one, and given to the group offsite when it
# exists (and DESTDIR is empty: a staged tree is owned by its packager).
# INSTALL_BIN: the binary to install (the tests install the one they test).
INSTALL_BIN ?= offsite

install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/offsite
	install -m 0644 packaging/tmpfiles.d/offsite.conf \
		$(DESTDIR)$(TMPFILESDIR)/offsite.conf
	@set -e; for u in $(UNITS); do \
		dst=$(DESTDIR)$(UNITDIR)/$${u#packaging/systemd/}; \
		install -d "$$(dirname "$$dst")"; \
		sed -e 's|/usr/bin/offsite|$(BINDIR)/offsite|g' \
		    -e 's|/etc/offsite/|$(CONFDIR)/|g' "$$u" >"$$dst"; \
		chmod 0644 "$$dst"; echo "installed $$dst"; \
	done
	@set -e; for m in $(MANPAGES); do \
		sec=$${m##*.}; dst=$(DESTDIR)$(MANDIR)/man$$sec/$${m##*/}.gz; \
		gzip -9n <"$$m" >"$$dst"; chmod 0644 "$$dst"; \
		echo "installed $$dst"; \
	done
	install -m 0644 packaging/offsite.ini $(DESTDIR)$(DOCDIR)/examples/offsite.ini
	install -m 0644 packaging/cron/offsite $(DESTDIR)$(DOCDIR)/examples/cron.d-offsite
	@set -e; conf=$(DESTDIR)$(CONFDIR); \
	[ -d "$$conf" ] || install -d -m 0750 "$$conf"; \
	if [ -e "$$conf/offsite.ini" ]; then \
		echo "kept the existing $$conf/offsite.ini"; \
	else \
		install -m 0640 packaging/offsite.ini "$$conf/offsite.ini"; \
		echo "installed $$conf/offsite.ini"; \
	fi; \
	if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ] && \
	   getent group offsite >/dev/null; then \
		chgrp offsite "$$conf" "$$conf/offsite.ini"; \
	fi

# The configuration stays: it is the administrator's.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/offsite
	rm -f $(DESTDIR)$(TMPFILESDIR)/offsite.conf
	rm -f $(patsubst packaging/systemd/%,$(DESTDIR)$(UNITDIR)/%,$(UNITS))
	-rmdir $(sort $(dir $(patsubst packaging/systemd/%,$(DESTDIR)$(UNITDIR)/%,$(filter %.conf,$(UNITS)))))
	rm -f $(DESTDIR)$(MANDIR)/man1/offsite.1.gz $(DESTDIR)$(MANDIR)/man5/offsite.ini.5.gz
	rm -rf $(DESTDIR)$(DOCDIR)

deb: offsite
	@bash packaging/debian/mkdeb $(VERSION) build/deb

clean:
	rm -rf build offsite

.SECONDARY:

-include $(shell find build -name '*.d' -type f 2>/dev/null)
