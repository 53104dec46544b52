/* CRC-32C, byte at a time through a 256-entry table (the reflected
 * polynomial 0x82f63b78): event files are small, so speed is no concern. */
#include "tb_crc32c.h"

static uint32_t table_entry(uint32_t byte)
{
    uint32_t c = byte;
    for (int k = 0; k < 8; k++)
        c = c & 1u ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    return c;
}

uint32_t tb_crc32c(const void *data, size_t len)
{
    /* Built on every call (256 entries): no process-wide state. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++)
        table[i] = table_entry(i);
    const unsigned char *p = data;
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

uint32_t tb_crc32c_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
