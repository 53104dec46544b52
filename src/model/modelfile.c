/* Model files: see docs/model-format.md.  Little-endian throughout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "model.h"
#include "npy.h"

#define MODEL_MAGIC "CLCNNMOD"
#define MODEL_VERSION 1u
#define HEADER_WORDS 6 /* version, flags, h, w, c, layer count */
#define LAYER_WORDS 9  /* kind, units, kh, kw, sh, sw, padding, activation, pool mode */
#define MAX_LAYERS 1024u

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int clcnn_model_save(clcnn_model *m, const char *path)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    if (!path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_save: NULL path");
    size_t nparams = clcnn_model_param_count(m);
    size_t len = 8 + 4 * HEADER_WORDS + 4 * LAYER_WORDS * m->nlayers + 4 * nparams + 4;
    unsigned char *buf = malloc(len);
    if (!buf)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    unsigned char *p = buf;
    memcpy(p, MODEL_MAGIC, 8);
    p += 8;
    uint32_t header[HEADER_WORDS] = {MODEL_VERSION, 0, (uint32_t)m->in_shape[0], (uint32_t)m->in_shape[1],
                                     (uint32_t)m->in_shape[2], (uint32_t)m->nlayers};
    for (int i = 0; i < HEADER_WORDS; i++, p += 4)
        put_u32(p, header[i]);
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer_config *c = &m->layers[i].cfg;
        uint32_t w[LAYER_WORDS] = {(uint32_t)c->kind, (uint32_t)c->units, (uint32_t)c->kh, (uint32_t)c->kw,
                                   (uint32_t)c->sh,   (uint32_t)c->sw,    (uint32_t)c->padding, (uint32_t)c->act,
                                   (uint32_t)c->mode};
        for (int k = 0; k < LAYER_WORDS; k++, p += 4)
            put_u32(p, w[k]);
    }
    int st = CLCNN_OK;
    for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
        for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++) {
            const param *pr = &m->layers[i].params[k];
            float *tmp = malloc(pr->count * sizeof *tmp);
            if (!tmp) {
                st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            st = ctx->ops->read(ctx->bctx, pr->value, 0, tmp, pr->count * sizeof *tmp);
            for (size_t e = 0; st == CLCNN_OK && e < pr->count; e++, p += 4) {
                uint32_t bits;
                memcpy(&bits, &tmp[e], 4);
                put_u32(p, bits);
            }
            free(tmp);
        }
    if (st == CLCNN_OK) {
        put_u32(p, (uint32_t)crc32(0L, buf, (uInt)(len - 4)));
        st = clcnn_write_file_atomic(ctx, path, buf, len);
    }
    free(buf);
    return st;
}

/* Builds the model described by a checked file image. */
static int model_from_bytes(clcnn_ctx *ctx, const char *path, const unsigned char *buf, size_t len,
                            clcnn_model **out)
{
    const size_t fixed = 8 + 4 * HEADER_WORDS + 4;
    if (len < fixed || memcmp(buf, MODEL_MAGIC, 8) != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a clcnn model file (bad magic)", path);
    uint32_t version = get_u32(buf + 8), flags = get_u32(buf + 12);
    if (version != MODEL_VERSION)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: model format version %u is not supported (this build reads %u)",
                           path, version, MODEL_VERSION);
    if (get_u32(buf + len - 4) != (uint32_t)crc32(0L, buf, (uInt)(len - 4)))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: checksum mismatch (the file is corrupt or truncated)", path);
    if (flags != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: unknown flags 0x%x", path, flags);
    uint32_t h = get_u32(buf + 16), w = get_u32(buf + 20), c = get_u32(buf + 24), nlayers = get_u32(buf + 28);
    if (nlayers == 0 || nlayers > MAX_LAYERS)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %u layers (expected 1..%u)", path, nlayers, MAX_LAYERS);
    if ((len - fixed) / (4 * LAYER_WORDS) < nlayers)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated layer list", path);
    clcnn_model *m;
    int st = clcnn_model_create(ctx, &m, h, w, c);
    if (st)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: bad input shape %ux%ux%u", path, h, w, c);
    const unsigned char *p = buf + 8 + 4 * HEADER_WORDS;
    for (uint32_t i = 0; i < nlayers; i++, p += 4 * LAYER_WORDS) {
        uint32_t f[LAYER_WORDS];
        for (int k = 0; k < LAYER_WORDS; k++)
            f[k] = get_u32(p + 4 * k);
        layer_config cfg = {.kind = (clcnn_layer_kind)f[0], .units = f[1], .kh = (int)f[2], .kw = (int)f[3],
                            .sh = (int)f[4], .sw = (int)f[5], .padding = (clcnn_padding)f[6],
                            .act = (clcnn_activation)f[7], .mode = (clcnn_pool_mode)f[8]};
        /* Guard the layer sizes before anything is allocated from them. */
        if (f[1] > (1u << 24) || f[2] > 4096 || f[3] > 4096 || f[4] > 4096 || f[5] > 4096 || f[6] > 1) {
            clcnn_model_free(m);
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: layer %u has out-of-range settings", path, i + 1);
        }
        if ((st = clcnn_model_append(m, &cfg))) {
            char why[512];
            snprintf(why, sizeof why, "%s", clcnn_errmsg(ctx));
            clcnn_model_free(m);
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %s", path, why);
        }
    }
    size_t nparams = clcnn_model_param_count(m);
    if ((len - fixed - 4 * LAYER_WORDS * (size_t)nlayers) / 4 != nparams ||
        (len - fixed - 4 * LAYER_WORDS * (size_t)nlayers) % 4 != 0) {
        clcnn_model_free(m);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the layer list needs %zu parameters, the file holds %zu bytes",
                           path, nparams, len - fixed - 4 * LAYER_WORDS * (size_t)nlayers);
    }
    for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
        for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++) {
            const param *pr = &m->layers[i].params[k];
            float *tmp = malloc(pr->count * sizeof *tmp);
            if (!tmp) {
                st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            for (size_t e = 0; e < pr->count; e++, p += 4) {
                uint32_t bits = get_u32(p);
                memcpy(&tmp[e], &bits, 4);
            }
            st = ctx->ops->write(ctx->bctx, pr->value, 0, tmp, pr->count * sizeof *tmp);
            free(tmp);
        }
    if (st) {
        clcnn_model_free(m);
        return st;
    }
    *out = m;
    return CLCNN_OK;
}

int clcnn_model_load(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    if (!ctx || !out || !path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_load: NULL argument");
    *out = NULL;
    unsigned char *buf;
    size_t len;
    int st = clcnn_read_file(ctx, path, &buf, &len);
    if (st)
        return st;
    st = model_from_bytes(ctx, path, buf, len, out);
    free(buf);
    return st;
}
