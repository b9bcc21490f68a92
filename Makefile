# git-meshpush — build, test, install.
#   make            build ./git-meshpush
#   make check      install missing packages, build, run every test (TAP, prove)
#   make demo       build and run the built-in demo mesh
#   make install    PREFIX=/usr/local DESTDIR=
#   make asan       build with AddressSanitizer + UBSan into build/asan and run the suite
#   make valgrind   run the suite with every git-meshpush call under valgrind memcheck
#   make deps       install the Debian packages that are missing (as root)
#   make fuzz       build the libFuzzer targets (build/fuzz) and run each FUZZ_TIME seconds (FUZZ=target… for some)
#   make bench / make format

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
HOOKDIR ?= $(PREFIX)/share/git-meshpush/hooks
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CC ?= cc
# libcrypto: OpenSSL (libcurl loads it anyway): SHA-256 and host-key fingerprints of the scp
# transport (src/transfer/ssh.c), the signatures of src/net/; initialised only when used.
PKGS := libgit2 libcurl inih libhs libpcre2-8 jansson libcrypto zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: src/net/curl_lazy.c loads it on the first network
# call, so the runs that never use the network (hooks, scans) start faster.
PKG_LIBS := $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Isrc -DMP_VERSION='"$(VERSION)"' \
	-DMP_HOOKDIR='"$(HOOKDIR)"' $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LIBS := $(PKG_LIBS) -ldl -lpthread -lm
# x86-64 with Hyperscan's static runtime at hand: see "Lazy libraries" below
LAZY ?= $(if $(and $(filter x86_64,$(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))),\
	$(filter /%,$(shell $(CC) -print-file-name=libhs_runtime.a))),1,0)

# Debian packages: build, test and benchmark needs (Vectorscan where Hyperscan is missing).
# libdeflate0: loaded with dlopen() by scan --all when present (twice zlib's inflate speed), not linked.
DEPS_BUILD := build-essential pkg-config git libgit2-dev libcurl4-openssl-dev \
	libinih-dev libpcre2-dev libjansson-dev libssl-dev zlib1g-dev libdeflate0
DEPS_TEST := python3-yaml openssh-server openssh-client python3 perl ca-certificates procps \
	pcre2-utils rsync ripgrep man-db iproute2 e2fsprogs time hyperfine openssl bc strace
# make asan / make fuzz / make valgrind
DEPS_HARDEN := clang libclang-rt-14-dev valgrind
DEPS := $(DEPS_BUILD) $(DEPS_TEST) $(DEPS_HARDEN)

BUILD ?= build
SRCS := $(shell find src -name '*.c' | sort)
MAIN_OBJ := $(BUILD)/src/main.o
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
ASM_SRCS := $(shell find src -name '*.S' | sort)
ASM_OBJS := $(ASM_SRCS:%.S=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(MAIN_OBJ),$(OBJS)) $(ASM_OBJS)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
MAN_PARTS := $(sort $(wildcard docs/man/*.roff))

all: git-meshpush git-meshpush.1

# Lazy libraries (src/util/lazy.h): on x86-64, libgit2, libcrypto and the
# Hyperscan compiler are loaded on their first call, and the Hyperscan
# runtime is linked statically, so that a run that needs none of them
# (a scan of files with the compiled rules cached) loads no more than
# libc, inih, PCRE2, jansson and zlib.  LAZY=0 links them all as usual.
ifeq ($(LAZY),1)
LAZY_NAMES := git2 crypto hs
LAZY_LIB_git2 := $(shell $(CC) -print-file-name=libgit2.so)
LAZY_LIB_crypto := $(shell $(CC) -print-file-name=libcrypto.so)
LAZY_LIB_hs := $(shell $(CC) -print-file-name=libhs.so)
HS_RUNTIME := $(shell $(CC) -print-file-name=libhs_runtime.a)
LAZY_OBJS := $(LAZY_NAMES:%=$(BUILD)/lazy/%.o) $(LAZY_NAMES:%=$(BUILD)/lazy/%-stubs.o)
MAIN_LIBS := $(filter-out -lgit2 -lcrypto -lhs,$(LIBS)) $(HS_RUNTIME)

$(BUILD)/lazy/%.c $(BUILD)/lazy/%-stubs.S: $(MAIN_OBJ) $(LIB_OBJS) tools/lazy-stubs.sh
	@mkdir -p $(dir $@)
	@echo "    LAZY $*"
	@nm -u $(MAIN_OBJ) $(LIB_OBJS) | sh tools/lazy-stubs.sh $* $(LAZY_LIB_$*) $(BUILD)/lazy/$* \
	  $(if $(filter hs,$*),$(HS_RUNTIME))

.SECONDARY: $(LAZY_NAMES:%=$(BUILD)/lazy/%.c) $(LAZY_NAMES:%=$(BUILD)/lazy/%-stubs.S)

$(BUILD)/lazy/%.o: $(BUILD)/lazy/%.c
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/lazy/%-stubs.o: $(BUILD)/lazy/%-stubs.S
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<
else
MAIN_LIBS := $(LIBS)
endif

# replaced, not overwritten: a hook may be running the old binary
git-meshpush: $(BUILD)/git-meshpush
	cp $< $@.tmp && mv -f $@.tmp $@

# src/util/no_ca.c replaces two mbedTLS functions for libgit2: linked in
# whole, and exported so that the dynamic linker finds them first.
NO_CA_OBJ := $(BUILD)/src/util/no_ca.o
NO_CA_LDFLAGS := -Wl,--export-dynamic-symbol=mbedtls_x509_crt_parse_file \
	-Wl,--export-dynamic-symbol=mbedtls_x509_crt_parse_path

$(BUILD)/git-meshpush: $(MAIN_OBJ) $(NO_CA_OBJ) $(LAZY_OBJS) $(BUILD)/libmeshpush.a Makefile
	@echo "    LINK $@"
	@$(CC) $(ALL_CFLAGS) $(NO_CA_LDFLAGS) -o $@ $(filter-out Makefile,$^) $(MAIN_LIBS)


$(BUILD)/libmeshpush.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "    CC $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "    AS $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/unit.h $(BUILD)/libmeshpush.a
	@mkdir -p $(dir $@)
	@echo "    CC $<"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libmeshpush.a $(LIBS)

# The man page: docs/man/*.roff in order, with the configuration keys
# generated from the schema (so the page lists every key that exists).
git-meshpush.1: $(MAN_PARTS) VERSION $(BUILD)/git-meshpush
	@echo "    MAN $@"
	@mkdir -p $(BUILD)/man
	@cd / && XDG_CONFIG_HOME=/nonexistent MESHPUSH_NO_REPO=1 $(CURDIR)/$(BUILD)/git-meshpush config --keys | \
	  awk '/^ /{sub(/^ +/,""); print; next} {print ".TP"; print ".B " $$0}' | sed 's/\\/\\e/g' > $(CURDIR)/$(BUILD)/man/85-keys.roff
	@for f in $(MAN_PARTS); do cat $$f; case $$f in *80-config.roff) cat $(BUILD)/man/85-keys.roff;; esac; done | \
	  sed 's/@VERSION@/$(VERSION)/g' > $@

-include $(OBJS:.o=.d) $(ASM_OBJS:.o=.d)

# The rules are embedded with .incbin, which -MMD does not see; their
# sha256 goes in too (the key of the compiled-rules cache).
# The scanner parses a lean copy at start-up: comments and the tp/fp
# examples (with their continuation lines) blanked, so line numbers stay.
$(BUILD)/src/scan/rules_blob.o: src/scan/rules.ini $(BUILD)/src/scan/rules-lean.ini
$(BUILD)/src/scan/rules_blob.o: EXTRA_CFLAGS += -DRULES_SHA256='"$(shell sha256sum src/scan/rules.ini | cut -c1-64)"' \
	-DRULES_LEAN='"$(BUILD)/src/scan/rules-lean.ini"'
$(BUILD)/src/scan/rules-lean.ini: src/scan/rules.ini
	@mkdir -p $(dir $@)
	@awk '/^(tp|fp|fp_placeholder)[ \t]*=/ {ex = 1; print ""; next} /^[ \t]/ && ex {print ""; next} \
	  {ex = 0} /^[#;]/ {print ""; next} {print}' $< >$@.tmp && mv $@.tmp $@

# Install whatever Debian packages are missing; quiet and fast when all are there.
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	hs=libhyperscan-dev; dpkg-query -W -f='$${Status}\n' libhyperscan-dev 2>/dev/null | grep -q 'ok installed' || \
	  dpkg-query -W -f='$${Status}\n' libvectorscan-dev 2>/dev/null | grep -q 'ok installed' || missing="$$missing hs"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; fi; \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq >/dev/null || exit 1; \
	  pk=$$(echo "$$missing" | sed 's/\bhs\b//'); \
	  case "$$missing" in *hs*) if apt-cache show libhyperscan-dev >/dev/null 2>&1; then pk="$$pk libhyperscan-dev"; else pk="$$pk libvectorscan-dev"; fi;; esac; \
	  apt-get install -y -qq --no-install-recommends $$pk >/dev/null || exit 1; \
	fi

# Tests: shell tests and unit tests under prove; ends with prove's summary.
PROVE ?= prove
PROVE_FLAGS ?= -j2
TESTS ?= $(sort $(wildcard tests/t[0-9]*.sh))
check: deps
	@$(MAKE) --no-print-directory all units
	MESHPUSH_BUILD=$(BUILD) $(PROVE) $(PROVE_FLAGS) $(UNIT_BINS) $(TESTS)

units: $(UNIT_BINS)

unit: units
	$(PROVE) $(UNIT_BINS)

# Sanitizers: the binary and the unit tests built by clang with ASan+UBSan
# in their own tree (build/asan), the suite run against that binary
# through MESHPUSH_BIN; ./git-meshpush and build/ are left alone.  LAZY=0:
# ASan's __cxa_throw interceptor needs libstdc++ linked at start-up, and
# Hyperscan's compiler throws (and catches) C++ exceptions.
ASAN_BUILD := build/asan
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp
asan: deps
	@$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CC=clang CFLAGS='$(ASAN_CFLAGS)' LAZY=0 \
	  $(ASAN_BUILD)/git-meshpush units
	$(ASAN_ENV) MESHPUSH_BIN=$(CURDIR)/$(ASAN_BUILD)/git-meshpush MESHPUSH_BUILD=$(ASAN_BUILD) \
	  $(PROVE) $(PROVE_FLAGS) $(UNIT_BINS:$(BUILD)/%=$(ASAN_BUILD)/%) $(TESTS)

# Valgrind memcheck: every git-meshpush call of the suite (tests/lib.sh
# wraps it) and every unit test; errors, and definite leaks, fail.
VALGRIND := valgrind -q --error-exitcode=126 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --suppressions=$(CURDIR)/fuzz/valgrind.supp
valgrind: deps
	@$(MAKE) --no-print-directory all units
	MESHPUSH_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) --exec '$(VALGRIND)' $(UNIT_BINS)
	MESHPUSH_VALGRIND=1 $(PROVE) $(PROVE_FLAGS) $(TESTS)

# libFuzzer targets fuzz/fuzz_<name>.c, linked with the module objects
# built by clang with coverage and ASan+UBSan in build/fuzz; each runs
# FUZZ_TIME seconds (fuzz/run.sh prints executions and findings per target).
FUZZ_BUILD := build/fuzz
FUZZ_TIME ?= 300
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined -DMP_FUZZING=1
FUZZ_TARGETS := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
fuzz-build: deps
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=clang CFLAGS='$(FUZZ_CFLAGS)' \
	  $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

$(BUILD)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_tmp.h $(BUILD)/libmeshpush.a
	@echo "    FUZZ $@"
	@$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libmeshpush.a $(LIBS)

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) sh fuzz/run.sh $(FUZZ_BUILD) $(FUZZ)

demo: deps
	@$(MAKE) --no-print-directory all
	@sh demo/demo.sh

bench: all
	@for b in bench/bench-*.sh; do echo "== $$b"; sh $$b || exit 1; done

# The secret scanner's benchmark alone (BENCH_SCAN_SIZE=small|medium|large).
bench-scan: all
	sh bench/bench-scan.sh

# Precision and recall of the scanner on the labelled corpus.
corpus-score: all
	sh tests/corpus/score

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(HOOKDIR)
	install -m 755 git-meshpush $(DESTDIR)$(BINDIR)/git-meshpush
	install -m 644 git-meshpush.1 $(DESTDIR)$(MANDIR)/man1/git-meshpush.1
	for h in hooks/*; do install -m 755 $$h $(DESTDIR)$(HOOKDIR)/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/git-meshpush $(DESTDIR)$(MANDIR)/man1/git-meshpush.1
	rm -rf $(DESTDIR)$(HOOKDIR)

format:
	clang-format -i $(SRCS) $(wildcard src/*/*.h src/*.h tests/unit/*.[ch])

clean:
	rm -rf build git-meshpush git-meshpush.1

.PHONY: all deps check units unit asan valgrind fuzz fuzz-build demo bench bench-scan corpus-score install uninstall format clean
