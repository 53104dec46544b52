/* libFuzzer target: the network spec parser (clcnn_model_from_spec_text,
 * then clcnn_model_from_spec on the same bytes as a file; the two must
 * agree).  A failure's message must name the spec first (every error line
 * is "NAME:LINE: ..." or "NAME: ..."); a model parsed must describe every
 * layer.  The context's allocator keeps 256 MiB in all, so that a spec
 * asking for a billion weights is the CLCNN_ERR_NOMEM it should be rather
 * than the fuzzer's out-of-memory. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BUDGET ((size_t)256 << 20)
static size_t in_use;

static void *budget_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    if (size > FUZZ_BUDGET - in_use)
        return NULL;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p)
        in_use += size;
    return p;
}

static void budget_free(void *user, void *p, size_t size)
{
    (void)user;
    if (p)
        in_use -= size;
    free(p);
}

static clcnn_ctx *budget_ctx(void)
{
    static clcnn_ctx *ctx;
    static const clcnn_allocator a = {budget_alloc, budget_free, NULL};
    (void)fuzz_cpu_ctx; /* the shared one has no budget */
    if (!ctx) {
        clcnn_ctx_options o = {.device = "cpu", .allocator = &a};
        if (clcnn_ctx_create_with_options(&ctx, &o) != CLCNN_OK) {
            fprintf(stderr, "fuzz: cannot create a cpu context\n");
            abort();
        }
    }
    return ctx;
}

static void check(clcnn_ctx *ctx, int st, clcnn_model *m, const char *name)
{
    fuzz_check_status(ctx, st);
    if (st != CLCNN_OK) {
        if (m || strncmp(clcnn_errmsg(ctx), name, strlen(name)) != 0 || strchr(clcnn_errmsg(ctx), '\n'))
            abort();
        return;
    }
    if (!m || clcnn_model_layer_count(m) == 0)
        abort();
    char buf[256];
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
        if (clcnn_model_layer_describe(m, i, buf, sizeof buf) != CLCNN_OK)
            abort();
    (void)clcnn_model_param_count(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clcnn_ctx *ctx = budget_ctx();
    size_t before = in_use;
    clcnn_model *m = NULL;
    int st = clcnn_model_from_spec_text(ctx, &m, "fuzz.spec", (const char *)data, size);
    check(ctx, st, m, "fuzz.spec");
    clcnn_model_free(m);

    static const char *path;
    if (!path)
        path = fuzz_temp_path(".spec");
    fuzz_write(path, data, size);
    m = NULL;
    int st2 = clcnn_model_from_spec(ctx, &m, path);
    check(ctx, st2, m, path);
    clcnn_model_free(m);
    if (st2 != st)
        abort();
    if (in_use != before) /* every block back, on every path */
        abort();
    return 0;
}
