# offsite: GNU make, no autotools.
#
#   make                 build ./offsite
#   make check           ASan+UBSan build, then every test (unit, cli, integration)
#   make check-unit      the tests that need no server
#   make lint            clang-format check, include-rule check, gcc -fanalyzer
#   make deps            install the Debian packages the build and tests need
#   make demo            the main job on throwaway local servers
#   make bench           end-to-end benchmark vs pg_dump|gzip|openssl|aws (~1 GB)
#   make install         PREFIX=/usr/local DESTDIR=
#
# Honours CC, CFLAGS, CPPFLAGS, LDFLAGS, LDLIBS, PREFIX, DESTDIR.
# WERROR=0 turns warnings back into warnings (they are errors by default).

CC       ?= cc
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
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

# Two builds side by side: release (./offsite) and check (sanitizers).
MODE ?= release
ifeq ($(MODE),check)
BUILD    := build/check
OPT      := -O1 -g $(SANITIZE)
MODE_LD  := $(SANITIZE)
else
BUILD    := build/release
OPT      := -O2 -g $(HARDEN)
MODE_LD  := $(HARDEN_LD)
endif

ALL_CPPFLAGS = -I. -DOFFSITE_VERSION='"$(VERSION)"' $(PKG_CFLAGS) $(CPPFLAGS)
ALL_CFLAGS   = $(STD) $(OPT) $(WARNINGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS  = $(MODE_LD) $(LDFLAGS)

# The modules, in dependency order: each may use only those after it.
MODULES   := agent retention s3 conf
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
LIB_SRC   := $(AGENT_SRC) $(wildcard retention/*.c s3/*.c conf/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/agent/main.o

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/support/*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRC := $(wildcard tests/integration/itest_*.c)
ITEST_BIN := $(ITEST_SRC:tests/integration/%.c=$(BUILD)/tests/%)
TOOL_SRC  := $(wildcard tests/harness/*.c)
TOOL_BIN  := $(TOOL_SRC:tests/harness/%.c=$(BUILD)/tests/%)

.PHONY: all check check-unit check-build lint format deps demo bench install uninstall clean

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

$(BUILD)/tests/%: tests/harness/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

# Everything the tests run, built with sanitizers.
check-build:
	@$(MAKE) --no-print-directory MODE=check build/check/offsite \
		$(patsubst build/release/%,build/check/%,$(UNIT_BIN) $(ITEST_BIN) $(TOOL_BIN))

check: check-build
	@bash tests/run --build build/check

check-unit: check-build
	@bash tests/run --build build/check --no-servers

lint:
	@bash tests/lint

format:
	clang-format -i $(wildcard */*.c */*.h tests/*/*.c tests/*/*.h)

deps:
	@bash tests/harness/deps

# The main job, end to end, on throwaway local servers.
demo: deps
	@$(MAKE) --no-print-directory offsite build/release/tests/freeport
	@bash tests/demo

bench: deps
	@$(MAKE) --no-print-directory offsite build/release/tests/freeport
	@bash tests/bench/e2e

install: offsite
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 offsite $(DESTDIR)$(BINDIR)/offsite

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/offsite

clean:
	rm -rf build offsite

.SECONDARY:

-include $(shell find build -name '*.d' 2>/dev/null)
