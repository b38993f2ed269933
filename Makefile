# shadowtrace — see README.md
#
#   make            build ./shadowtrace and tools/microguest/microguest
#   make test       unit + live tests (needs root, /dev/kvm, BPF)
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan
#   make deps       install build dependencies (Debian, apt-get)

OUTPUT    ?= .output
CLANG     ?= clang
BPFTOOL   ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC        ?= gcc
SANITIZE  ?= 0
VERSION   := 0.1.0

WARN      := -Wall -Wextra -Werror
CFLAGS    ?= -g -O2
CFLAGS    += $(WARN) -std=gnu11 -DST_VERSION=\"$(VERSION)\" \
	     -Iinclude -Isrc -Itools/microguest -I$(OUTPUT)
LDLIBS    := -lbpf -lelf -lz
ifeq ($(SANITIZE),1)
OUTPUT    := .output-san
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
endif

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 $(WARN) \
	      -Wno-unused-parameter -Iinclude -I$(OUTPUT)

VMLINUX_BTF := /sys/kernel/btf/vmlinux

MG_SRCS   := $(filter-out tools/microguest/main.c,$(wildcard tools/microguest/*.c))
MG_OBJS   := $(patsubst tools/microguest/%.c,$(OUTPUT)/mg/%.o,$(MG_SRCS))
# user-space code shared by shadowtrace, the micro-guest CLI and the unit tests
LIB_SRCS  := src/figures_json.c src/json.c src/hist.c src/names.c src/compare.c src/vm_name.c
LIB_OBJS  := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
APP_SRCS  := $(filter-out $(LIB_SRCS),$(wildcard src/*.c))
APP_OBJS  := $(patsubst src/%.c,$(OUTPUT)/%.o,$(APP_SRCS))
HEADERS   := $(wildcard include/*.h src/*.h tools/microguest/*.h)

.PHONY: all clean test test-unit test-live deps
all: shadowtrace tools/microguest/microguest

deps:
	@tools/install-deps.sh

$(OUTPUT) $(OUTPUT)/mg:
	@mkdir -p $@

# vmlinux.h: from the running kernel when its BTF has KVM's shadow MMU types
# (KVM built in), else the checked-in x86_64 copy (CO-RE adapts either).
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	@if [ -r $(VMLINUX_BTF) ] && $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp 2>/dev/null \
	    && grep -q '^struct kvm_mmu_page {' $@.tmp; then \
		mv $@.tmp $@; echo "  GEN      vmlinux.h from $(VMLINUX_BTF)"; \
	else \
		rm -f $@.tmp; cp vmlinux/vmlinux_x86_64.h $@; echo "  CP       vmlinux.h (checked-in x86_64 copy)"; \
	fi

$(OUTPUT)/shadowtrace.bpf.o: bpf/shadowtrace.bpf.c $(wildcard bpf/*.h) include/shadowtrace.h include/translation.h $(OUTPUT)/vmlinux.h
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

shadowtrace: $(APP_OBJS) $(LIB_OBJS) $(MG_OBJS)
	@echo "  LINK     $@"
	@$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

tools/microguest/microguest: $(OUTPUT)/mg/main.o $(MG_OBJS) $(LIB_OBJS)
	@echo "  LINK     $@"
	@$(CC) $(LDFLAGS) $^ -o $@

$(OUTPUT)/unit_tests: tests/unit_tests.c $(LIB_OBJS) $(MG_OBJS) $(HEADERS)
	@echo "  LINK     $@"
	@$(CC) $(CFLAGS) $(LDFLAGS) tests/unit_tests.c $(LIB_OBJS) $(MG_OBJS) -o $@

# README's test command. Ends with "N passed, N failed[, N skipped]".
test: all $(OUTPUT)/unit_tests
	@tests/run.sh $(OUTPUT)/unit_tests

clean:
	rm -rf .output .output-san shadowtrace tools/microguest/microguest
