/* CRC-32C (Castagnoli), which TFRecord framing uses; zlib has only the
 * CRC-32 of gzip, another polynomial. */
#ifndef CLCNN_CLI_TB_CRC32C_H
#define CLCNN_CLI_TB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of len bytes at data. */
uint32_t tb_crc32c(const void *data, size_t len);

/* TFRecord's masked form of a CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8,
 * so that a CRC of data holding CRCs is not trivially related to them. */
uint32_t tb_crc32c_mask(uint32_t crc);

#endif
