/* Size-class free lists: power-of-two classes from 64 bytes to 1 MiB; larger blocks go to
 * malloc directly. Addresses never influence a decision, so reuse order does not matter for
 * determinism. The simulator is single-threaded. */
#include "sim/pool.h"

#include "core/base.h"

#include <stdint.h>
#include <stdlib.h>

#define CLASS_MIN_SHIFT 6
#define CLASS_COUNT     15 /* 64 B .. 1 MiB */
#define CACHED_MAX      4096

struct block {
    uint32_t cls; /* CLASS_COUNT: not pooled */
    uint32_t pad;
    uint64_t size;
    struct block *next;
    uint64_t align;
};

static struct block *free_lists[CLASS_COUNT];
static uint32_t free_counts[CLASS_COUNT];

static uint32_t class_of(size_t size)
{
    uint32_t cls = 0;
    size_t cap = (size_t)1 << CLASS_MIN_SHIFT;
    while (cap < size && cls < CLASS_COUNT) {
        cap <<= 1;
        cls++;
    }
    return cls;
}

void *rs_pool_alloc(size_t size)
{
    uint32_t cls = class_of(size);
    struct block *b;
    if (cls < CLASS_COUNT && free_lists[cls] != NULL) {
        b = free_lists[cls];
        free_lists[cls] = b->next;
        free_counts[cls]--;
    } else {
        size_t cap = cls < CLASS_COUNT ? (size_t)1 << (cls + CLASS_MIN_SHIFT) : size;
        b = malloc(sizeof *b + cap);
        RS_ASSERT(b != NULL);
        b->cls = cls;
        b->size = cap;
    }
    return b + 1;
}

void rs_pool_free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    struct block *b = (struct block *)ptr - 1;
    if (b->cls >= CLASS_COUNT || free_counts[b->cls] >= CACHED_MAX) {
        free(b);
        return;
    }
    b->next = free_lists[b->cls];
    free_lists[b->cls] = b;
    free_counts[b->cls]++;
}

void rs_pool_trim(void)
{
    for (uint32_t cls = 0; cls < CLASS_COUNT; cls++) {
        while (free_lists[cls] != NULL) {
            struct block *b = free_lists[cls];
            free_lists[cls] = b->next;
            free(b);
        }
        free_counts[cls] = 0;
    }
}
