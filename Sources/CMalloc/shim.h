// The governor's view of glibc's allocator controls (<malloc.h>), which Swift's
// Glibc module does not export.
#ifndef GOVERNOR_CMALLOC_SHIM_H
#define GOVERNOR_CMALLOC_SHIM_H

#include <malloc.h>

/// mallopt(M_ARENA_MAX, count): at most `count` arenas for all threads.
static inline int governor_malloc_limit_arenas(int count) {
    return mallopt(M_ARENA_MAX, count);
}

/// Bytes the allocator holds free (in its arenas, not returned to the system).
static inline size_t governor_malloc_free_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.fordblks;
}

/// Bytes in use by the program (allocated and not freed), arenas and mmapped blocks.
static inline size_t governor_malloc_used_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

#endif
