/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bounded hash table of u64 keys to u64 values (open addressing, linear
 * probing, deletion by backward shift): what BPF hash maps are to the live
 * tracer, for its replay. Grows on demand up to @max entries.
 */
#ifndef SHADOWTRACE_U64MAP_H
#define SHADOWTRACE_U64MAP_H

#include <stdint.h>

struct u64map {
	uint64_t *keys, *vals;
	uint8_t *used;
	uint32_t cap, n, max;
};

void u64map_init(struct u64map *m, uint32_t max);
void u64map_free(struct u64map *m);
uint64_t *u64map_get(struct u64map *m, uint64_t key);
/* Inserts or overwrites: 0, or -1 when full (@max) or out of memory. */
int u64map_put(struct u64map *m, uint64_t key, uint64_t val);
/* 0 if @key was there (and is gone), -1 if not. */
int u64map_del(struct u64map *m, uint64_t key);

#endif
