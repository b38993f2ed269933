# shadowtrace — see README.md
#
#   make demo       build, then run the built-in micro-guest demo (README quick start)
#   make            build ./shadowtrace and tools/microguest/microguest
#   make test       unit + live tests, run on a test build under AddressSanitizer
#                   and UBSan (SANITIZE=0: on the release build); needs root,
#                   /dev/kvm and BPF for the live part, which skips without them
#   make deps       install build dependencies (Debian, apt-get)

OUTPUT    ?= .output
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC        ?= gcc
SANITIZE  ?= 0
TEST_SANITIZE ?= 1
VERSION   := 0.1.0

WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -g -O2
CFLAGS    += $(WARN) -std=gnu11 -DST_VERSION=\"$(VERSION)\" \
	     -Iinclude -Isrc -Itools/microguest -I$(OUTPUT)
LDLIBS    := -lbpf -lelf -lz
ST_BIN    := shadowtrace
MG_BIN    := tools/microguest/microguest
ifeq ($(SANITIZE),1)
OUTPUT    := .output-san
ST_BIN    := $(OUTPUT)/shadowtrace
MG_BIN    := $(OUTPUT)/microguest
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 $(WARN) \
	      -Wno-unused-parameter -Iinclude -Ivmlinux

VMLINUX_BTF := /sys/kernel/btf/vmlinux

MG_SRCS   := $(filter-out tools/microguest/main.c,$(wildcard tools/microguest/*.c))
MG_OBJS   := $(patsubst tools/microguest/%.c,$(OUTPUT)/mg/%.o,$(MG_SRCS))
# user-space code shared by shadowtrace, the micro-guest CLI and the unit tests
LIB_SRCS  := src/figures_json.c src/json.c src/hist.c src/names.c src/compare.c src/vm_name.c \
	     src/recfile.c src/replay.c src/u64map.c
LIB_OBJS  := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
APP_SRCS  := $(filter-out $(LIB_SRCS),$(wildcard src/*.c))
APP_OBJS  := $(patsubst src/%.c,$(OUTPUT)/%.o,$(APP_SRCS))
HEADERS   := $(wildcard include/*.h src/*.h tools/microguest/*.h) bpf/account.bpf.h

.PHONY: all clean test deps binaries demo bench static test-stock-kernel fuzz
all: deps $(ST_BIN) $(MG_BIN)
binaries: $(ST_BIN) $(MG_BIN) $(OUTPUT)/unit_tests

# installs only what is missing; a no-op on a prepared machine
deps:
	@tools/install-deps.sh

demo: all
	./shadowtrace demo

# statically linked, for the stock-kernel lane's initramfs
static: .output/shadowtrace.static
.output/shadowtrace.static: $(APP_OBJS) $(LIB_OBJS) $(MG_OBJS)
	@echo "  LINK     $@"
	@$(CC) -static $^ $(LDLIBS) -o $@ 2>&1 | grep -v 'statically linked applications requires' || true
	@test -x $@

# shadowtrace on Debian's stock kernel under QEMU (see tools/stock-kernel/lane.sh)
test-stock-kernel: all static
	@tools/stock-kernel/lane.sh

# overhead, measured side by side (see tools/bench/bench.sh)
bench: all
	@tools/bench/bench.sh

$(OUTPUT) $(OUTPUT)/mg: | deps
	@mkdir -p $@

# vmlinux.h: from the running kernel when its BTF has KVM's shadow MMU types
# (KVM built in), else the checked-in x86_64 copy (CO-RE adapts either).
vmlinux/vmlinux.h:
	@if [ -r $(VMLINUX_BTF) ] && $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp 2>/dev/null \
	    && grep -q '^struct kvm_mmu_page {' $@.tmp; then \
		mv $@.tmp $@; echo "  GEN      vmlinux.h from $(VMLINUX_BTF)"; \
	else \
		rm -f $@.tmp; cp vmlinux/vmlinux_x86_64.h $@; echo "  CP       vmlinux.h (checked-in x86_64 copy)"; \
	fi

$(OUTPUT)/shadowtrace.bpf.o: bpf/shadowtrace.bpf.c $(wildcard bpf/*.h) include/shadowtrace.h include/translation.h vmlinux/vmlinux.h | $(OUTPUT)
	@echo "  BPF      $@"
	@$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/shadowtrace.skel.h: $(OUTPUT)/shadowtrace.bpf.o
	@echo "  SKEL     $@"
	@$(BPFTOOL) gen skeleton $< name shadowtrace_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.o: src/%.c $(HEADERS) $(OUTPUT)/shadowtrace.skel.h | $(OUTPUT)
	@echo "  CC       $@"
	@$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/mg/%.o: tools/microguest/%.c $(HEADERS) | $(OUTPUT)/mg
	@echo "  CC       $@"
	@$(CC) $(CFLAGS) -c $< -o $@

$(ST_BIN): $(APP_OBJS) $(LIB_OBJS) $(MG_OBJS)
	@echo "  LINK     $@"
	@$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(MG_BIN): $(OUTPUT)/mg/main.o $(MG_OBJS) $(LIB_OBJS)
	@echo "  LINK     $@"
	@$(CC) $(LDFLAGS) $^ -lz -o $@

$(OUTPUT)/unit_tests: tests/unit_tests.c $(LIB_OBJS) $(MG_OBJS) $(HEADERS)
	@echo "  LINK     $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) tests/unit_tests.c $(LIB_OBJS) $(MG_OBJS) -lz -o $@

# libFuzzer on the recording reader + replay (seeds: real recordings)
FUZZ_BIN     := .output-fuzz/fuzz_recording
FUZZ_SECONDS ?= 600
FUZZ_SRCS    := tests/fuzz/fuzz_recording.c src/recfile.c src/replay.c src/u64map.c \
		src/report_json.c src/report_text.c src/figures_json.c src/json.c src/hist.c src/names.c
$(FUZZ_BIN): $(FUZZ_SRCS) $(HEADERS) | deps
	@mkdir -p $(dir $@)
	@echo "  FUZZ     $@"
	@$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(WARN) -std=gnu11 -DST_VERSION=\"$(VERSION)\" -Iinclude -Isrc $(FUZZ_SRCS) -lz -o $@

fuzz: $(FUZZ_BIN)
	@mkdir -p .output-fuzz/corpus && cp -n tests/fuzz/seeds/* .output-fuzz/corpus/
	$(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 .output-fuzz/corpus

# README's test command. Ends with "N passed, N failed, N skipped".
ifeq ($(TEST_SANITIZE),1)
TEST_OUT  := .output-san
else
TEST_OUT  := .output
endif
# The release build (for the demo check and the static lane) and the test
# build; "make test SANITIZE=1" is the default (TEST_SANITIZE=1) spelled out.
ifeq ($(SANITIZE),1)
TEST_SANITIZE := 1
endif
test: deps
	@$(MAKE) --no-print-directory SANITIZE=0 all static
	@$(MAKE) --no-print-directory SANITIZE=$(TEST_SANITIZE) binaries
	@$(MAKE) --no-print-directory SANITIZE=0 $(FUZZ_BIN)
	@FUZZ_BIN=$(FUZZ_BIN) FUZZ_SECONDS=$${FUZZ_SECONDS:-60} ST_BIN=$(if $(filter 1,$(TEST_SANITIZE)),$(TEST_OUT)/shadowtrace,./shadowtrace) \
	 MG_BIN=$(if $(filter 1,$(TEST_SANITIZE)),$(TEST_OUT)/microguest,tools/microguest/microguest) \
	 UNIT_BIN=$(TEST_OUT)/unit_tests RELEASE_BIN=./shadowtrace tests/run.sh

clean:
	rm -rf .output .output-san .output-fuzz shadowtrace tools/microguest/microguest
