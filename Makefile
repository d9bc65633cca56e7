# openshell: one static binary. `make` builds it (through build.sh), `make test` tests it.
#
#   make            release build: static musl binary ./openshell (see build.sh)
#   make dev        glibc + ASan/UBSan build in build/dev/ (unit tests, debugging)
#   make test       everything the CI runs; ends with "N passed, N failed"
#   make fuzz       libFuzzer targets for the parsers (FUZZ_SECONDS=60 each)
#   make bench      performance ratios against peers (bubblewrap, direct TCP, tinyproxy)
#   make install    PREFIX=/usr/local
#   make clean

VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local

SRCS := main.c $(sort $(wildcard cmd/*.c lib/*.c gateway/*.c sandbox/*.c))
LIB_SRCS := $(filter-out main.c,$(SRCS))
UNIT_SRCS := $(sort $(wildcard test/unit/*.c))
FUZZ_SRCS := $(sort $(wildcard test/fuzz/fuzz_*.c))

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wimplicit-fallthrough -Wundef -Wvla -Wpointer-arith
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DOPENSHELL_VERSION='"$(VERSION)"' -I. -MMD -MP

# ---- dev build: glibc, Debian's -dev packages, sanitizers ---------------------------------
DEV_CC ?= gcc
DEV_CFLAGS := $(BASE_CFLAGS) $(WARN) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
DEV_LIBS := -lbearssl -lyaml -lsqlite3 -lseccomp
DEV_OBJS := $(SRCS:%.c=build/dev/%.o)
DEV_LIB_OBJS := $(LIB_SRCS:%.c=build/dev/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=build/dev/%.o)

.PHONY: all dev unit test fuzz fuzz-regress bench install clean release-bin lint

all:
	./build.sh

dev: build/dev/openshell build/dev/unit

build/dev/%.o: %.c
	@mkdir -p $(dir $@)
	$(DEV_CC) $(DEV_CFLAGS) -c $< -o $@

build/dev/openshell: $(DEV_OBJS)
	$(DEV_CC) $(DEV_CFLAGS) $^ $(DEV_LIBS) -o $@

build/dev/unit: $(DEV_LIB_OBJS) $(UNIT_OBJS)
	$(DEV_CC) $(DEV_CFLAGS) $^ $(DEV_LIBS) -o $@

unit: build/dev/unit
	ASAN_OPTIONS=detect_leaks=1 ./build/dev/unit $(T)

# ---- release build: called by build.sh with VENDOR_PREFIX and KH set -----------------------
REL_CC ?= musl-gcc
REL_CFLAGS := $(BASE_CFLAGS) $(WARN) -O2 -fstack-protector-strong -ffunction-sections \
	-fdata-sections -isystem $(VENDOR_PREFIX)/include -isystem $(KH) $(VENDOR_DEFS)
REL_LDFLAGS := -static -Wl,--gc-sections,-z,relro,-z,now,-z,noexecstack -s
REL_LIBS := -L$(VENDOR_PREFIX)/lib -lbearssl -lyaml -lsqlite3 -lseccomp
REL_OBJS := $(SRCS:%.c=build/release/%.o)

build/release/%.o: %.c
	@mkdir -p $(dir $@)
	$(REL_CC) $(REL_CFLAGS) -c $< -o $@

release-bin: $(REL_OBJS)
	@test -n "$(VENDOR_PREFIX)" || { echo "release-bin is run by ./build.sh" >&2; exit 2; }
	$(REL_CC) $(REL_CFLAGS) $(REL_LDFLAGS) $(REL_OBJS) $(REL_LIBS) -o openshell.tmp
	mv openshell.tmp openshell

# ---- tests, fuzzing, benchmarks -------------------------------------------------------------
test:
	./test/run.sh

FUZZ_SECONDS ?= 60
FUZZ_CFLAGS := $(BASE_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined
FUZZ_BINS := $(FUZZ_SRCS:test/fuzz/%.c=build/fuzz/%)

build/fuzz/%: test/fuzz/%.c $(LIB_SRCS)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) $< $(LIB_SRCS) $(DEV_LIBS) -o $@

fuzz: $(FUZZ_BINS)
	./test/fuzz/run.sh run $(FUZZ_SECONDS)

fuzz-regress: $(FUZZ_BINS)
	./test/fuzz/run.sh regress

bench:
	./test/bench/run.sh

lint:
	cppcheck --quiet --error-exitcode=1 --std=c11 -I. $(SRCS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 openshell $(DESTDIR)$(PREFIX)/bin/openshell

clean:
	rm -rf build openshell openshell.tmp

-include $(DEV_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(REL_OBJS:.o=.d)
