/* A protocol-buffer encoder for the few field types TensorBoard's event
 * files use (docs/tensorboard.md says why not protobuf-c): varints,
 * 64-bit doubles, 32-bit floats, length-delimited bytes and messages, and
 * packed repeated doubles, written in the wire format of
 * https://protobuf.dev/programming-guides/encoding/. */
#ifndef CLCNN_CLI_TB_PROTO_H
#define CLCNN_CLI_TB_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* A message being encoded: bytes that grow as fields are added.  After an
 * allocation failure every call does nothing and failed stays set, so a
 * caller checks once at the end. */
typedef struct pb_buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} pb_buf;

/* Field types: a varint (int32, int64), a double, a float. */
void pb_varint_field(pb_buf *b, uint32_t field, uint64_t v);
void pb_double_field(pb_buf *b, uint32_t field, double v);
void pb_float_field(pb_buf *b, uint32_t field, float v);
/* A string, bytes, or an embedded message already encoded (len bytes). */
void pb_bytes_field(pb_buf *b, uint32_t field, const void *data, size_t len);
void pb_message_field(pb_buf *b, uint32_t field, const pb_buf *message);
/* A packed repeated double: n values in one length-delimited field. */
void pb_packed_doubles_field(pb_buf *b, uint32_t field, const double *v, size_t n);

/* Frees the bytes; b may be used again (empty). */
void pb_free(pb_buf *b);

#endif
