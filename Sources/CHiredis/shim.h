#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

/// `redisReaderGetError` is a macro in hiredis 0.14, which Swift cannot call:
/// this returns the reader's error string.
static inline const char *chiredis_reader_error(const redisReader *reader) {
    return reader->errstr;
}

/// Whether the reader is in an error state (its `err` flag).
static inline int chiredis_reader_failed(const redisReader *reader) {
    return reader->err;
}

#endif
