/* The wire format: each field is a key (field number << 3 | wire type, as
 * a varint) followed by its value; integers little-endian. */
#include "tb_proto.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_64BIT = 1, WIRE_LEN = 2, WIRE_32BIT = 5 };

static int reserve(pb_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (more <= b->cap - b->len)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *p = realloc(b->data, cap);
    if (!p) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

static void put(pb_buf *b, const void *data, size_t len)
{
    if (len && reserve(b, len) == 0) {
        memcpy(b->data + b->len, data, len);
        b->len += len;
    }
}

static void put_varint(pb_buf *b, uint64_t v)
{
    unsigned char bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            bytes[n] |= 0x80;
        n++;
    } while (v);
    put(b, bytes, n);
}

static void put_key(pb_buf *b, uint32_t field, unsigned wire)
{
    put_varint(b, (uint64_t)field << 3 | wire);
}

static void put_le(pb_buf *b, uint64_t v, size_t n)
{
    unsigned char bytes[8];
    for (size_t i = 0; i < n; i++)
        bytes[i] = (unsigned char)(v >> (8 * i));
    put(b, bytes, n);
}

static uint64_t double_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

void pb_varint_field(pb_buf *b, uint32_t field, uint64_t v)
{
    put_key(b, field, WIRE_VARINT);
    put_varint(b, v);
}

void pb_double_field(pb_buf *b, uint32_t field, double v)
{
    put_key(b, field, WIRE_64BIT);
    put_le(b, double_bits(v), 8);
}

void pb_float_field(pb_buf *b, uint32_t field, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    put_key(b, field, WIRE_32BIT);
    put_le(b, u, 4);
}

void pb_bytes_field(pb_buf *b, uint32_t field, const void *data, size_t len)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, len);
    put(b, data, len);
}

void pb_message_field(pb_buf *b, uint32_t field, const pb_buf *message)
{
    if (message->failed)
        b->failed = 1;
    else
        pb_bytes_field(b, field, message->data, message->len);
}

void pb_packed_doubles_field(pb_buf *b, uint32_t field, const double *v, size_t n)
{
    if (n > SIZE_MAX / 8) {
        b->failed = 1;
        return;
    }
    put_key(b, field, WIRE_LEN);
    put_varint(b, (uint64_t)n * 8);
    if (reserve(b, n * 8))
        return;
    for (size_t i = 0; i < n; i++)
        put_le(b, double_bits(v[i]), 8);
}

void pb_free(pb_buf *b)
{
    free(b->data);
    *b = (pb_buf){0};
}
