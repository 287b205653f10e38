/* Region layouts: key-space cuts and round-robin replica placement. */
#include "sim/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare_key_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

struct rs_region *rs_layout_split_keys(uint32_t key_count, uint32_t regions)
{
    RS_ASSERT(regions >= 1);
    uint32_t count = key_count > regions ? key_count : regions;
    char *text = malloc((size_t)count * 12);
    char **keys = malloc((size_t)count * sizeof *keys);
    struct rs_region *out = calloc(regions, sizeof *out);
    RS_ASSERT(text != NULL && keys != NULL && out != NULL);
    for (uint32_t i = 0; i < count; i++) {
        keys[i] = text + (size_t)i * 12;
        snprintf(keys[i], 12, "k%u", i);
    }
    /* unique strings: the order does not depend on qsort's algorithm */
    qsort(keys, count, sizeof *keys, compare_key_text);
    for (uint32_t i = 0; i < regions; i++) {
        const char *start = i == 0 ? "" : keys[(uint64_t)i * count / regions];
        const char *end = i + 1 == regions ? "" : keys[(uint64_t)(i + 1) * count / regions];
        rs_region_init(&out[i], i + 1, (struct rs_bytes){(const uint8_t *)start, strlen(start)},
                       (struct rs_bytes){(const uint8_t *)end, strlen(end)});
    }
    free(keys);
    free(text);
    return out;
}

void rs_layout_spread(struct rs_conf *confs, uint32_t regions, uint32_t stores,
                      uint32_t replicas)
{
    RS_ASSERT(replicas >= 1 && replicas <= stores && replicas <= RS_CONF_VOTERS_MAX);
    for (uint32_t i = 0; i < regions; i++) {
        memset(&confs[i], 0, sizeof confs[i]);
        confs[i].voter_count = replicas;
        for (uint32_t k = 0; k < replicas; k++) {
            confs[i].voters[k] = (i + k) % stores + 1;
        }
    }
}
