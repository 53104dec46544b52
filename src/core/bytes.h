/* Byte codecs for the file formats (model, kernel cache, zip, .npy, IDX):
 * fixed-width integers at a byte pointer, whatever the host's byte order
 * or alignment, and the CRC-32 they are checked with. */
#ifndef CLCNN_BYTES_H
#define CLCNN_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

static inline uint16_t get_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const unsigned char *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* IDX headers are the one big-endian format. */
static inline uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static inline void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void put_le64(unsigned char *p, uint64_t v)
{
    put_le32(p, (uint32_t)v);
    put_le32(p + 4, (uint32_t)(v >> 32));
}

/* IEEE-754 values by their bit patterns. */
static inline float get_lef32(const unsigned char *p)
{
    uint32_t bits = get_le32(p);
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static inline double get_lef64(const unsigned char *p)
{
    uint64_t bits = get_le64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static inline void put_lef32(unsigned char *p, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le32(p, bits);
}

static inline void put_lef64(unsigned char *p, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le64(p, bits);
}

/* The CRC-32 of zip, gzip and PNG (zlib's crc32: reflected polynomial
 * 0xedb88320, initial and final complement), over any length: crc is 0 to
 * start, or the CRC of the bytes before p to go on. */
static inline uint32_t clcnn_crc32(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, p, n);
}

#endif
