// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "record/u64map.h"

void u64map_init(struct u64map *m, uint32_t max)
{
	memset(m, 0, sizeof(*m));
	m->max = max;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	free(m->used);
	u64map_init(m, m->max);
}

static uint32_t home(const struct u64map *m, uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (uint32_t)key & (m->cap - 1);
}

static int grow(struct u64map *m)
{
	struct u64map old = *m;
	uint32_t cap = m->cap ? m->cap * 2 : 64;

	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	m->used = calloc(cap, 1);
	if (!m->keys || !m->vals || !m->used) {
		free(m->keys);
		free(m->vals);
		free(m->used);
		*m = old;
		return -1;
	}
	m->cap = cap;
	m->n = 0;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.used[i])
			u64map_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
	free(old.used);
	return 0;
}

uint64_t *u64map_get(struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (uint32_t i = home(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (!m->used[i])
			return NULL;
		if (m->keys[i] == key)
			return &m->vals[i];
	}
}

int u64map_put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t *v = u64map_get(m, key);

	if (v) {
		*v = val;
		return 0;
	}
	if (m->n >= m->max)
		return -1;
	/* at most half full: probes stay short and always end */
	if ((m->n + 1) * 2 > m->cap && grow(m))
		return -1;
	for (uint32_t i = home(m, key);; i = (i + 1) & (m->cap - 1))
		if (!m->used[i]) {
			m->used[i] = 1;
			m->keys[i] = key;
			m->vals[i] = val;
			m->n++;
			return 0;
		}
}

int u64map_del(struct u64map *m, uint64_t key)
{
	uint32_t i, j, h;

	if (!u64map_get(m, key))
		return -1;
	for (i = home(m, key); m->keys[i] != key || !m->used[i]; i = (i + 1) & (m->cap - 1))
		;
	m->used[i] = 0;
	m->n--;
	/* shift later members of the cluster back over the hole */
	for (j = (i + 1) & (m->cap - 1); m->used[j]; j = (j + 1) & (m->cap - 1)) {
		h = home(m, m->keys[j]);
		if (((j - h) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->used[i] = 1;
			m->used[j] = 0;
			i = j;
		}
	}
	return 0;
}
