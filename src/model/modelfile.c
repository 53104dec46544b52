/* Model and checkpoint files: see docs/model-format.md.  Little-endian
 * throughout; the last four bytes are a CRC-32 of everything before. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "io.h"
#include "model.h"
#include "ops/family.h"
#include "ops/training.h"

#define MODEL_MAGIC "CLCNNMOD"
#define MODEL_VERSION 3u /* what save writes; load also reads versions 1 and 2 */
#define FIRST_NAMES_VERSION 3u /* the first with a class-name section */
#define HEADER_WORDS 6   /* version, flags, h, w, c, layer count */
#define MAX_LAYERS 1024u
#define FLAG_TRAINING_STATE 1u /* optimiser state and run position follow the weights */
#define FLAG_RUN_SETTINGS 2u   /* with it: the optimizer, schedule, noise seed and augmentation (below) */
#define RUN_SETTINGS_BYTES (8 * 4 + 8 + 4 + 8 + 4 + 4)
#define OPTIMIZER_ADAM 0u
#define OPTIMIZER_SGD 1u

/* Version 1's layer record: the kind, then these eight u32 columns for
 * every kind (zero where the kind has no such setting), with the ranges
 * version 1 guarded before anything was allocated; a kind's own fields
 * are then taken from them and checked as its family declares. */
static const layer_field v1_columns[] = {
    LAYER_FIELD("units", LAYER_FIELD_U32, units, units, 0, LAYER_MAX_UNITS),
    LAYER_FIELD("kh", LAYER_FIELD_U32, kh, kernel_h, 0, LAYER_MAX_WINDOW),
    LAYER_FIELD("kw", LAYER_FIELD_U32, kw, kernel_w, 0, LAYER_MAX_WINDOW),
    LAYER_FIELD("sh", LAYER_FIELD_U32, sh, stride_h, 0, LAYER_MAX_WINDOW),
    LAYER_FIELD("sw", LAYER_FIELD_U32, sw, stride_w, 0, LAYER_MAX_WINDOW),
    LAYER_FIELD("padding", LAYER_FIELD_U32, padding, padding, 0, 1),
    LAYER_FIELD("activation", LAYER_FIELD_U32, act, activation, 0, INT32_MAX),
    LAYER_FIELD("mode", LAYER_FIELD_U32, mode, mode, 0, INT32_MAX),
};
#define V1_COLUMNS (sizeof v1_columns / sizeof v1_columns[0])

/* A version 2 layer record: kind, field count, then the family's fields. */
static size_t record_bytes(size_t nfields)
{
    return 4 * (2 + nfields);
}

/* The class-name section (version 3): a count, then each name as its
 * length and its bytes. */
static size_t names_bytes(const class_names *n)
{
    size_t len = 4;
    for (size_t i = 0; i < n->count; i++)
        len += 4 + strlen(n->names[i]);
    return len;
}

/* --------------------------------------------------------------- writing */

typedef struct writer {
    unsigned char *buf, *p;
} writer;

/* The next n bytes of the image; the writer moves past them. */
static unsigned char *advance(writer *w, size_t n)
{
    w->p += n;
    return w->p - n;
}

static void put_u32(writer *w, uint32_t v)
{
    put_le32(advance(w, 4), v);
}

static void put_u64(writer *w, uint64_t v)
{
    put_le64(advance(w, 8), v);
}

/* Copies a device buffer of count floats into the file, refusing
 * non-finite values (a model or checkpoint is never saved broken). */
static int put_buffer(clcnn_ctx *ctx, writer *w, const clcnn_buf *b, size_t count, const char *path)
{
    float *tmp = clcnn_mem_array(&ctx->allocator, count, sizeof *tmp);
    if (!tmp)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    int st = ctx->ops->read(ctx->bctx, b, 0, tmp, count * sizeof *tmp);
    for (size_t e = 0; st == CLCNN_OK && e < count; e++) {
        if (!isfinite(tmp[e])) {
            st = clcnn_error(ctx, CLCNN_ERR_NUMERIC, "%s: not saved: the model holds NaN or Inf values", path);
            break;
        }
        put_lef32(advance(w, 4), tmp[e]);
    }
    clcnn_mem_free(&ctx->allocator, tmp, count * sizeof *tmp);
    return st;
}

/* Whether a checkpoint of m needs the run-settings section: an optimizer
 * other than Adam, a schedule, augmentation, or a layer that draws random
 * numbers.  A run without any of them is written as before they existed. */
static int needs_run_settings(const clcnn_model *m)
{
    if (m->optimizer != &clcnn_adam || m->schedule.s.kind != CLCNN_LR_CONSTANT || m->augment.crop ||
        m->augment.flip)
        return 1;
    for (size_t i = 0; i < m->nlayers; i++)
        if (m->layers[i].family->flags & FAMILY_DRAWS_NOISE)
            return 1;
    return 0;
}

/* Step, Adam's four settings, the run settings (with FLAG_RUN_SETTINGS),
 * the optimizer's state (slots buffers), the run's position. */
static size_t training_state_bytes(int run_settings, size_t slots, size_t nparams)
{
    return 8 + 4 * 4 + (run_settings ? RUN_SETTINGS_BYTES : 0) + slots * 4 * nparams + 8 + 4 + 4 + 8 + 8 + 8 + 8 +
           4;
}

static void put_run_settings(writer *w, const clcnn_model *m)
{
    put_u32(w, m->optimizer == &clcnn_sgd ? OPTIMIZER_SGD : OPTIMIZER_ADAM);
    put_lef32(advance(w, 4), m->momentum);
    put_lef32(advance(w, 4), m->weight_decay);
    put_u32(w, (uint32_t)m->nesterov);
    put_u32(w, (uint32_t)m->schedule.s.kind);
    put_u32(w, m->schedule.s.every);
    put_u32(w, m->schedule.s.patience);
    put_lef32(advance(w, 4), m->schedule.s.factor);
    put_lef64(advance(w, 8), m->schedule.best);
    put_u32(w, m->schedule.bad);
    put_u64(w, m->noise_seed);
    put_u32(w, m->augment.crop);
    put_u32(w, (uint32_t)m->augment.flip);
}

static int save(clcnn_model *m, const char *path, const clcnn_train_state *state)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    if (!path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "save: NULL path");
    size_t nparams = clcnn_model_param_count(m);
    size_t len = 8 + 4 * HEADER_WORDS + 4 * nparams + 4;
    for (size_t i = 0; i < m->nlayers; i++)
        len += record_bytes(clcnn_layer_fields_stored(m->layers[i].family, &m->layers[i].cfg));
    len += names_bytes(&m->names);
    const int run_settings = state && needs_run_settings(m);
    if (state)
        len += training_state_bytes(run_settings, m->optimizer->slots, nparams);
    writer w = {clcnn_mem_alloc(&ctx->allocator, len), NULL};
    if (!w.buf)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    w.p = w.buf;
    memcpy(w.p, MODEL_MAGIC, 8);
    w.p += 8;
    const uint32_t flags = (state ? FLAG_TRAINING_STATE : 0) | (run_settings ? FLAG_RUN_SETTINGS : 0);
    uint32_t header[HEADER_WORDS] = {MODEL_VERSION, flags, (uint32_t)m->in_shape[0],
                                     (uint32_t)m->in_shape[1], (uint32_t)m->in_shape[2], (uint32_t)m->nlayers};
    for (int i = 0; i < HEADER_WORDS; i++)
        put_u32(&w, header[i]);
    for (size_t i = 0; i < m->nlayers; i++) {
        const layer *l = &m->layers[i];
        put_u32(&w, (uint32_t)l->cfg.kind);
        const size_t nfields = clcnn_layer_fields_stored(l->family, &l->cfg); /* trailing defaults left out */
        put_u32(&w, (uint32_t)nfields);
        for (size_t k = 0; k < nfields; k++) {
            const layer_field *f = &l->family->fields[k];
            double v = clcnn_layer_field_get(&l->cfg, f);
            if (f->type == LAYER_FIELD_F32)
                put_lef32(advance(&w, 4), (float)v);
            else
                put_u32(&w, (uint32_t)v);
        }
    }
    put_u32(&w, (uint32_t)m->names.count);
    for (size_t i = 0; i < m->names.count; i++) {
        size_t n = strlen(m->names.names[i]);
        put_u32(&w, (uint32_t)n);
        memcpy(advance(&w, n), m->names.names[i], n);
    }
    int st = CLCNN_OK;
    for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
        for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++)
            st = put_buffer(ctx, &w, m->layers[i].params[k].value, m->layers[i].params[k].count, path);
    if (st == CLCNN_OK && state) {
        put_u64(&w, m->step);
        float adam[4] = {m->lr, m->beta1, m->beta2, m->eps};
        for (int i = 0; i < 4; i++)
            put_lef32(advance(&w, 4), adam[i]);
        if (run_settings)
            put_run_settings(&w, m);
        for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
            for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++) {
                const param *pr = &m->layers[i].params[k];
                for (size_t s = 0; st == CLCNN_OK && s < m->optimizer->slots; s++)
                    st = put_buffer(ctx, &w, pr->state[s], pr->count, path);
            }
        put_u64(&w, state->seed);
        put_u32(&w, state->epoch);
        put_u32(&w, state->batch_size);
        put_u64(&w, state->done);
        put_lef64(advance(&w, 8), state->loss_sum);
        put_lef64(advance(&w, 8), state->correct);
        put_u64(&w, state->data_count);
        put_u32(&w, state->data_crc);
    }
    if (st == CLCNN_OK) {
        put_u32(&w, clcnn_crc32(0, w.buf, len - 4));
        st = clcnn_write_file_atomic(ctx, path, w.buf, len);
    }
    clcnn_mem_free(&ctx->allocator, w.buf, len);
    return st;
}

int clcnn_model_save(clcnn_model *m, const char *path)
{
    return save(m, path, NULL);
}

int clcnn_model_save_checkpoint(clcnn_model *m, const char *path, const clcnn_train_state *state)
{
    if (m && !state)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_save_checkpoint: NULL state");
    return save(m, path, state);
}

/* --------------------------------------------------------------- reading */

typedef struct reader {
    const unsigned char *p, *end;
} reader;

/* The next n bytes of the image; the reader moves past them. */
static const unsigned char *consume(reader *r, size_t n)
{
    r->p += n;
    return r->p - n;
}

static uint32_t get_u32(reader *r)
{
    return get_le32(consume(r, 4));
}

static uint64_t get_u64(reader *r)
{
    return get_le64(consume(r, 8));
}

static int get_buffer(clcnn_ctx *ctx, reader *r, clcnn_buf *b, size_t count, const char *path)
{
    float *tmp = clcnn_mem_array(&ctx->allocator, count, sizeof *tmp);
    if (!tmp)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    for (size_t e = 0; e < count; e++)
        tmp[e] = get_lef32(consume(r, 4));
    int st = ctx->ops->write(ctx->bctx, b, 0, tmp, count * sizeof *tmp);
    clcnn_mem_free(&ctx->allocator, tmp, count * sizeof *tmp);
    return st;
}

/* Checks, before layer i is appended to m, that its parameters (counted by
 * its family's shape inference, which checks every size for overflow),
 * with those of the layers
 * before it (*params_so_far, updated), fit in the param_bytes of data that
 * follow the layer list.  A configuration the layer itself rejects passes
 * here: clcnn_model_append reports it (before allocating anything). */
static int layer_fits(clcnn_ctx *ctx, const char *path, const clcnn_model *m, const layer_config *cfg, uint32_t i,
                      size_t *params_so_far, size_t param_bytes)
{
    const layer_family *family = clcnn_layer_family(cfg->kind);
    if (!family)
        return CLCNN_OK;
    layer probe;
    memset(&probe, 0, sizeof probe);
    probe.cfg = *cfg;
    probe.family = family;
    probe.index = m->nlayers;
    memcpy(probe.in_shape, m->nlayers ? m->layers[m->nlayers - 1].out_shape : m->in_shape, sizeof probe.in_shape);
    char who[48];
    clcnn_layer_name(&probe, who, sizeof who);
    if (family->infer(ctx, &probe, who) != CLCNN_OK)
        return CLCNN_OK;
    int ovf = 0;
    size_t total = *params_so_far;
    for (size_t k = 0; k < probe.nparams; k++) {
        total += probe.params[k].count;
        ovf |= total < probe.params[k].count;
    }
    if (ovf)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: layer %u is too large to address", path, i + 1);
    if (total > param_bytes / 4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: layer %u needs %zu parameters in all, the file holds only %zu bytes after the layer "
                           "list (truncated or corrupt)", path, i + 1, total, param_bytes);
    *params_so_far = total;
    return CLCNN_OK;
}

/* Takes field f of layer i from the file's value v into *cfg, checking it
 * against f's range first. */
static int take_field(clcnn_ctx *ctx, const char *path, uint32_t i, const layer_family *family,
                      const layer_field *f, double v, layer_config *cfg)
{
    char who[4200];
    snprintf(who, sizeof who, "%s: layer %u (%s)", path, i + 1, family->name);
    int st = clcnn_layer_field_check(ctx, CLCNN_ERR_FORMAT, who, f, v);
    if (st == CLCNN_OK)
        clcnn_layer_field_set(cfg, f, v);
    return st;
}

/* Reads layer record i (of a file of this version) into *cfg, checking its
 * kind and every field of its family's before anything is allocated from
 * them; r moves past the record. */
static int read_layer(clcnn_ctx *ctx, const char *path, uint32_t version, reader *r, uint32_t i, layer_config *cfg)
{
    const size_t left = (size_t)(r->end - r->p);
    if (left < (version == 1 ? 4 * (1 + V1_COLUMNS) : 8))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated layer list (layer %u)", path, i + 1);
    memset(cfg, 0, sizeof *cfg);
    const uint32_t kind = get_u32(r);
    const uint32_t count = version == 1 ? 0 : get_u32(r);
    const layer_family *family = clcnn_layer_family((clcnn_layer_kind)kind);
    if (!family)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: layer %u: unknown layer kind %u", path, i + 1, kind);
    cfg->kind = (clcnn_layer_kind)kind;
    clcnn_layer_set_defaults(family, cfg); /* for the fields a record ends before */
    int st = CLCNN_OK;
    if (version == 1) {
        layer_config columns = {0};
        clcnn_layer_set_defaults(family, &columns);
        for (size_t k = 0; k < V1_COLUMNS && st == CLCNN_OK; k++)
            st = take_field(ctx, path, i, family, &v1_columns[k], get_u32(r), &columns);
        for (size_t k = 0; k < family->nfields && st == CLCNN_OK; k++) {
            const layer_field *f = &family->fields[k];
            st = take_field(ctx, path, i, family, f, clcnn_layer_field_get(&columns, f), cfg);
        }
        return st;
    }
    /* A record may end before fields that have defaults (written before
     * the family had them). */
    const size_t required = clcnn_layer_fields_required(family);
    if (count < required || count > family->nfields) {
        if (required == family->nfields)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: layer %u (%s) has %u fields, its family declares %zu",
                               path, i + 1, family->name, count, family->nfields);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: layer %u (%s) has %u fields, its family declares %zu (and %zu more with defaults)",
                           path, i + 1, family->name, count, required, family->nfields - required);
    }
    if (left < record_bytes(count))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated layer list (layer %u)", path, i + 1);
    for (size_t k = 0; k < count && st == CLCNN_OK; k++) {
        const layer_field *f = &family->fields[k];
        double v = f->type == LAYER_FIELD_F32 ? get_lef32(consume(r, 4)) : get_u32(r);
        st = take_field(ctx, path, i, family, f, v, cfg);
    }
    return st;
}

/* Checks the class-name section at r (version 3) before anything is
 * allocated from it: *count names, each within the file and valid; r
 * moves past it. */
static int skip_names(clcnn_ctx *ctx, const char *path, reader *r, uint32_t *count)
{
    if (r->end - r->p < 4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated class names (no count)", path);
    *count = get_u32(r);
    if (*count > LAYER_MAX_UNITS || *count > (size_t)(r->end - r->p) / 4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %u class names do not fit in the file (truncated or corrupt)",
                           path, *count);
    for (uint32_t i = 0; i < *count; i++) {
        char who[4200];
        snprintf(who, sizeof who, "%s: class name %u", path, i + 1);
        if (r->end - r->p < 4)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated class names (name %u)", path, i + 1);
        uint32_t len = get_u32(r);
        if (len > CLCNN_CLASS_NAME_MAX)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s has a length of %u bytes (at most %d; truncated or corrupt)",
                               who, len, CLCNN_CLASS_NAME_MAX);
        if (len > (size_t)(r->end - r->p))
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated class names (name %u)", path, i + 1);
        int st = clcnn_class_name_valid(ctx, CLCNN_ERR_FORMAT, who, (const char *)r->p, len);
        if (st)
            return st;
        consume(r, len);
    }
    return CLCNN_OK;
}

/* Gives m the count names of the section at r (checked by skip_names); r
 * moves past it. */
static int take_names(clcnn_model *m, const char *path, reader *r, uint32_t count)
{
    clcnn_ctx *ctx = m->ctx;
    consume(r, 4);
    if (count == 0)
        return CLCNN_OK;
    size_t classes = clcnn_model_classes(m);
    if (count != classes)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %u class names for a model of %zu classes", path, count,
                           classes);
    const char **names = clcnn_mem_array(&ctx->allocator, count, sizeof *names);
    size_t *lens = clcnn_mem_array(&ctx->allocator, count, sizeof *lens);
    int st = CLCNN_OK;
    if (!names || !lens) {
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    } else {
        for (uint32_t i = 0; i < count; i++) {
            lens[i] = get_u32(r);
            names[i] = (const char *)consume(r, lens[i]);
        }
        st = clcnn_class_names_set(ctx, &ctx->allocator, CLCNN_ERR_FORMAT, path, &m->names, names, lens, count);
    }
    clcnn_mem_free(&ctx->allocator, (void *)names, count * sizeof *names);
    clcnn_mem_free(&ctx->allocator, lens, count * sizeof *lens);
    return st;
}

/* Takes the run settings at r (FLAG_RUN_SETTINGS; their size checked by
 * the caller) into m, checking each as the API does; r moves past them. */
static int take_run_settings(clcnn_model *m, const char *path, reader *r)
{
    clcnn_ctx *ctx = m->ctx;
    const uint32_t optimizer = get_u32(r);
    const float momentum = get_lef32(consume(r, 4)), weight_decay = get_lef32(consume(r, 4));
    const uint32_t nesterov = get_u32(r);
    clcnn_lr_schedule s = {.kind = (clcnn_lr_schedule_kind)get_u32(r)};
    s.every = get_u32(r);
    s.patience = get_u32(r);
    s.factor = get_lef32(consume(r, 4));
    const double best = get_lef64(consume(r, 8));
    const uint32_t bad = get_u32(r);
    m->noise_seed = get_u64(r);
    const uint32_t crop = get_u32(r), flip = get_u32(r);
    char who[4200];
    snprintf(who, sizeof who, "%s: run settings", path);
    int st = CLCNN_OK;
    if (optimizer == OPTIMIZER_SGD &&
        (st = clcnn_optimizer_check_sgd(ctx, CLCNN_ERR_FORMAT, who, m->lr, momentum, weight_decay, (int)nesterov)))
        return st;
    if ((st = clcnn_lr_schedule_check(ctx, CLCNN_ERR_FORMAT, who, &s)))
        return st;
    if (isnan(best) || (s.kind == CLCNN_LR_PLATEAU && bad >= s.patience))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the plateau count (best %g, %u epochs) is corrupt", who, best,
                           bad);
    if (flip > 1 || (crop && (crop > 255 || crop >= m->in_shape[0] || crop >= m->in_shape[1])))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: the augmentation (crop %u, flip %u) does not fit the %zux%zu input", who, crop, flip,
                           m->in_shape[0], m->in_shape[1]);
    m->augment = (clcnn_augment){crop, (int)flip};
    if (optimizer == OPTIMIZER_SGD)
        m->optimizer = &clcnn_sgd; /* its state is read next */
    m->momentum = optimizer == OPTIMIZER_SGD ? momentum : 0.0f;
    m->weight_decay = optimizer == OPTIMIZER_SGD ? weight_decay : 0.0f;
    m->nesterov = optimizer == OPTIMIZER_SGD ? (int)nesterov : 0;
    m->schedule.s = s;
    m->schedule.best = best;
    m->schedule.bad = bad;
    return CLCNN_OK;
}

/* Builds the model described by a file image; *had_state tells whether a
 * training-state section was present (and, with state non-NULL, read). */
static int model_from_bytes(clcnn_ctx *ctx, const char *path, const unsigned char *buf, size_t len,
                            clcnn_model **out, clcnn_train_state *state, int *had_state)
{
    const size_t fixed = 8 + 4 * HEADER_WORDS + 4;
    if (len < fixed || memcmp(buf, MODEL_MAGIC, 8) != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a clcnn model file (bad magic)", path);
    reader r = {buf + 8, buf + len - 4};
    uint32_t version = get_u32(&r), flags = get_u32(&r);
    if (version < 1 || version > MODEL_VERSION)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: model format version %u is not supported (this build reads 1 to %u)", path, version,
                           MODEL_VERSION);
    if (get_le32(buf + len - 4) != clcnn_crc32(0, buf, len - 4))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: checksum mismatch (the file is corrupt or truncated)", path);
    if ((flags & ~(FLAG_TRAINING_STATE | FLAG_RUN_SETTINGS)) ||
        ((flags & FLAG_RUN_SETTINGS) && !(flags & FLAG_TRAINING_STATE)))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: unknown flags 0x%x", path, flags);
    uint32_t h = get_u32(&r), w = get_u32(&r), c = get_u32(&r), nlayers = get_u32(&r);
    if (nlayers == 0 || nlayers > MAX_LAYERS)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %u layers (expected 1..%u)", path, nlayers, MAX_LAYERS);
    /* First every record, checked and skipped: the parameters start after
     * the last one.  The records are then read again to build the model. */
    const reader records = r;
    layer_config cfg;
    for (uint32_t i = 0; i < nlayers; i++) {
        int st = read_layer(ctx, path, version, &r, i, &cfg);
        if (st)
            return st;
    }
    uint32_t nnames = 0;
    if (version >= FIRST_NAMES_VERSION) {
        int st = skip_names(ctx, path, &r, &nnames);
        if (st)
            return st;
    }
    size_t param_bytes = (size_t)(r.end - r.p), params_so_far = 0;
    r = records;
    int ovf = 0;
    clcnn_mul_size(clcnn_mul_size(h, w, &ovf), c, &ovf);
    if (ovf)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: input shape %ux%ux%u is too large", path, h, w, c);
    clcnn_model *m;
    int st = clcnn_model_create(ctx, &m, h, w, c);
    if (st == CLCNN_ERR_NOMEM)
        return st;
    if (st)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: bad input shape %ux%ux%u", path, h, w, c);
    for (uint32_t i = 0; i < nlayers; i++) {
        if ((st = read_layer(ctx, path, version, &r, i, &cfg))) { /* cannot fail: checked above */
            clcnn_model_free(m);
            return st;
        }
        /* Nothing may be allocated from a size the file cannot back: work
         * the layer's shape and parameter count out first, and stop before
         * allocating when the file does not hold that many floats. */
        if ((st = layer_fits(ctx, path, m, &cfg, i, &params_so_far, param_bytes))) {
            clcnn_model_free(m);
            return st;
        }
        if ((st = clcnn_model_append(m, &cfg))) {
            if (st == CLCNN_ERR_NOMEM) {
                clcnn_model_free(m);
                return st;
            }
            char why[512];
            snprintf(why, sizeof why, "%s", clcnn_errmsg(ctx));
            clcnn_model_free(m);
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %s", path, why);
        }
    }
    if (version >= FIRST_NAMES_VERSION && (st = take_names(m, path, &r, nnames))) {
        clcnn_model_free(m);
        return st;
    }
    size_t nparams = clcnn_model_param_count(m);
    size_t have = (size_t)(r.end - r.p);
    /* The optimizer, which sets how many state buffers follow, is the
     * first word of the run settings. */
    const int run_settings = (flags & FLAG_RUN_SETTINGS) != 0;
    const size_t settings_at = 4 * nparams + 8 + 4 * 4;
    uint32_t optimizer = OPTIMIZER_ADAM;
    if (run_settings && have >= settings_at + 4 &&
        (optimizer = get_le32(r.p + settings_at)) != OPTIMIZER_ADAM && optimizer != OPTIMIZER_SGD) {
        clcnn_model_free(m);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: unknown optimizer %u", path, optimizer);
    }
    const size_t slots = (optimizer == OPTIMIZER_SGD ? &clcnn_sgd : &clcnn_adam)->slots;
    size_t want = 4 * nparams + (flags & FLAG_TRAINING_STATE ? training_state_bytes(run_settings, slots, nparams) : 0);
    if (have != want) {
        clcnn_model_free(m);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the layer list needs %zu bytes of parameters%s, the file holds %zu",
                           path, want, flags & FLAG_TRAINING_STATE ? " and training state" : "", have);
    }
    for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
        for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++)
            st = get_buffer(ctx, &r, m->layers[i].params[k].value, m->layers[i].params[k].count, path);
    if (st == CLCNN_OK && (flags & FLAG_TRAINING_STATE)) {
        m->step = get_u64(&r);
        float adam[4];
        for (int i = 0; i < 4; i++)
            adam[i] = get_lef32(consume(&r, 4));
        if (st == CLCNN_OK && (st = clcnn_model_set_adam(m, adam[0], adam[1], adam[2], adam[3])))
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: bad optimiser settings", path);
        if (st == CLCNN_OK && run_settings)
            st = take_run_settings(m, path, &r);
        for (size_t i = 0; i < m->nlayers && st == CLCNN_OK; i++)
            for (size_t k = 0; k < m->layers[i].nparams && st == CLCNN_OK; k++) {
                param *pr = &m->layers[i].params[k];
                for (size_t s = 0; st == CLCNN_OK && s < slots; s++)
                    st = get_buffer(ctx, &r, pr->state[s], pr->count, path);
            }
        clcnn_train_state s = {0};
        s.seed = get_u64(&r);
        s.epoch = get_u32(&r);
        s.batch_size = get_u32(&r);
        s.done = get_u64(&r);
        s.loss_sum = get_lef64(consume(&r, 8));
        s.correct = get_lef64(consume(&r, 8));
        s.data_count = get_u64(&r);
        s.data_crc = get_u32(&r);
        s.step = m->step;
        if (st == CLCNN_OK && state)
            *state = s;
    }
    if (st) {
        clcnn_model_free(m);
        return st;
    }
    *had_state = (flags & FLAG_TRAINING_STATE) != 0;
    *out = m;
    return CLCNN_OK;
}

/* Loads path; with need_state, only a checkpoint. */
static int load(clcnn_ctx *ctx, clcnn_model **out, const char *path, int need_state, clcnn_model_file_info *info)
{
    if (!ctx || !out || !path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "load: NULL argument");
    *out = NULL;
    unsigned char *buf;
    size_t len;
    int st = clcnn_read_file(ctx, path, CLCNN_READ_ANY_SIZE, &buf, &len);
    if (st)
        return st;
    clcnn_model_file_info f = {0};
    st = model_from_bytes(ctx, path, buf, len, out, &f.state, &f.checkpoint);
    if (st == CLCNN_OK)
        f.version = get_le32(buf + 8); /* after the magic, in every version */
    clcnn_mem_free(&ctx->allocator, buf, len);
    if (st == CLCNN_OK && need_state && !f.checkpoint) {
        clcnn_model_free(*out);
        *out = NULL;
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: a model file, not a checkpoint (it holds no training state)",
                           path);
    }
    if (st == CLCNN_OK && info)
        *info = f;
    return st;
}

int clcnn_model_load(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    return load(ctx, out, path, 0, NULL);
}

int clcnn_model_load_file(clcnn_ctx *ctx, clcnn_model **out, const char *path, clcnn_model_file_info *info)
{
    return load(ctx, out, path, 0, info);
}

int clcnn_model_load_checkpoint(clcnn_ctx *ctx, clcnn_model **out, const char *path, clcnn_train_state *state)
{
    if (!state)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_load_checkpoint: NULL state");
    clcnn_model_file_info f;
    int st = load(ctx, out, path, 1, &f);
    if (st == CLCNN_OK)
        *state = f.state;
    return st;
}
