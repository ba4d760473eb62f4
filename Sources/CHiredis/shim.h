#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdlib.h>
#include <string.h>

/// `redisReaderGetError` is a macro in hiredis 0.14, which Swift cannot call:
/// this returns the reader's error string.
static inline const char *chiredis_reader_error(const redisReader *reader) {
    return reader->errstr;
}

/// Whether the reader is in an error state (its `err` flag).
static inline int chiredis_reader_failed(const redisReader *reader) {
    return reader->err;
}

/// One element of a reply in a flat reply: its type (`REDIS_REPLY_*`), for strings, statuses
/// and errors where its bytes are in the flat reply's `bytes`, for integers the value, for
/// arrays the number of elements (which follow it, depth first).
typedef struct chiredis_flat_element {
    int type;
    long long integer;
    size_t offset;
    size_t length;
} chiredis_flat_element;

/// A reply as hiredis's reader parsed it, kept flat: its elements in order (an array before
/// its elements) and the bytes of its strings one after the other. Filled by the reader's object
/// functions below instead of hiredis's own reply objects, which cost an allocation and a free
/// per element (two for a string); reset by the caller once it has taken a whole reply.
typedef struct chiredis_flat_reply {
    chiredis_flat_element *elements;
    size_t count;
    size_t capacity;
    char *bytes;
    size_t length;
    size_t bytes_capacity;
} chiredis_flat_reply;

/// Makes room for `needed` items of `size` bytes in `*memory` (holding `*capacity` items),
/// doubling from `initial`; 0 when memory runs out (hiredis then reports "Out of memory").
static inline int chiredis_flat_reserve(void **memory, size_t *capacity, size_t needed, size_t size, size_t initial) {
    if (needed <= *capacity) return 1;
    size_t grown = *capacity == 0 ? initial : *capacity;
    while (grown < needed) grown *= 2;
    void *moved = realloc(*memory, grown * size);
    if (moved == NULL) return 0;
    *memory = moved;
    *capacity = grown;
    return 1;
}

static inline chiredis_flat_element *chiredis_flat_append(const redisReadTask *task, int type) {
    chiredis_flat_reply *flat = (chiredis_flat_reply *)task->privdata;
    if (flat == NULL) return NULL;
    if (!chiredis_flat_reserve((void **)&flat->elements, &flat->capacity, flat->count + 1, sizeof(chiredis_flat_element), 64)) return NULL;
    chiredis_flat_element *element = &flat->elements[flat->count++];
    element->type = type;
    element->integer = 0;
    element->offset = 0;
    element->length = 0;
    return element;
}

/// hiredis wants a non-NULL object per element; the flat reply itself stands for all of them.
static inline void *chiredis_flat_object(const redisReadTask *task, chiredis_flat_element *element) {
    return element == NULL ? NULL : task->privdata;
}

static inline void *chiredis_flat_create_string(const redisReadTask *task, char *string, size_t length) {
    chiredis_flat_reply *flat = (chiredis_flat_reply *)task->privdata;
    if (flat == NULL) return NULL;
    if (!chiredis_flat_reserve((void **)&flat->bytes, &flat->bytes_capacity, flat->length + length, 1, 4096)) return NULL;
    chiredis_flat_element *element = chiredis_flat_append(task, task->type);
    if (element == NULL) return NULL;
    element->offset = flat->length;
    element->length = length;
    if (length > 0) memcpy(flat->bytes + flat->length, string, length);
    flat->length += length;
    return chiredis_flat_object(task, element);
}

static inline void *chiredis_flat_create_array(const redisReadTask *task, int elements) {
    chiredis_flat_element *element = chiredis_flat_append(task, REDIS_REPLY_ARRAY);
    if (element != NULL) element->integer = elements;
    return chiredis_flat_object(task, element);
}

static inline void *chiredis_flat_create_integer(const redisReadTask *task, long long value) {
    chiredis_flat_element *element = chiredis_flat_append(task, REDIS_REPLY_INTEGER);
    if (element != NULL) element->integer = value;
    return chiredis_flat_object(task, element);
}

static inline void *chiredis_flat_create_nil(const redisReadTask *task) {
    return chiredis_flat_object(task, chiredis_flat_append(task, REDIS_REPLY_NIL));
}

static inline void chiredis_flat_free_object(void *object) {
    (void)object;
}

/// A reply reader that fills `flat` (which must outlive it) instead of making reply objects:
/// `redisReaderGetReply` then hands back `flat` itself when a whole reply has been read.
static inline redisReader *chiredis_flat_reader_create(chiredis_flat_reply *flat) {
    static redisReplyObjectFunctions functions = {
        chiredis_flat_create_string,
        chiredis_flat_create_array,
        chiredis_flat_create_integer,
        chiredis_flat_create_nil,
        chiredis_flat_free_object,
    };
    redisReader *reader = redisReaderCreateWithFunctions(&functions);
    if (reader != NULL) reader->privdata = flat;
    return reader;
}

/// Frees the memory of `flat` (not `flat` itself).
static inline void chiredis_flat_release(chiredis_flat_reply *flat) {
    free(flat->elements);
    free(flat->bytes);
    flat->elements = NULL;
    flat->bytes = NULL;
    flat->count = flat->capacity = flat->length = flat->bytes_capacity = 0;
}

/// Empties `flat` for the next reply, keeping its memory unless a large reply grew it past 1 MiB.
static inline void chiredis_flat_reset(chiredis_flat_reply *flat) {
    flat->count = 0;
    flat->length = 0;
    if (flat->bytes_capacity > (1 << 20) || flat->capacity > (1 << 16)) chiredis_flat_release(flat);
}

#endif
