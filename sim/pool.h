/* A size-class pool for message and disk buffers: the event loop's blocks are recycled. */
#ifndef RS_SIM_POOL_H
#define RS_SIM_POOL_H

#include <stddef.h>

void *rs_pool_alloc(size_t size);
void rs_pool_free(void *ptr); /* NULL is fine */
/* Releases every cached block (at exit, so leak checkers see a clean heap). */
void rs_pool_trim(void);

#endif
