/* clcnn train as one rank of an MPI job (Open MPI; dist.h).  Everything
 * the ranks exchange goes through MPI_COMM_WORLD with errors returned, so
 * that a failed collective becomes a message and MPI_Abort, never a hang
 * of the ranks still waiting (mpirun itself ends the job when a rank
 * dies). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mpi.h>

#include "common.h"
#include "dist.h"

/* Set by mpirun (Open MPI, or a PMI/PMIx launcher such as srun). */
static int under_launcher(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static int mpi_fail(const char *what, int err)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "MPI error %d", err);
    return cli_fail("%s: %s", what, msg);
}

int cli_dist_init(cli_dist *d, int *argc, char ***argv)
{
    *d = (cli_dist){.size = 1, .local_size = 1};
    if (!under_launcher())
        return 0;
    int provided, err;
    /* Funneled: the CPU backend's workers never call MPI. */
    if ((err = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided)) != MPI_SUCCESS)
        return mpi_fail("MPI_Init", err);
    d->active = 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm local;
    if ((err = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &local)) !=
        MPI_SUCCESS) {
        mpi_fail("MPI_Comm_split_type", err);
        return cli_dist_finish(d, 1);
    }
    MPI_Comm_rank(local, &d->local_rank);
    MPI_Comm_size(local, &d->local_size);
    MPI_Comm_free(&local);
    return 0;
}

static void log_notice(void *user, const char *msg)
{
    fprintf(stderr, "clcnn: rank %d: %s\n", ((const cli_dist *)user)->rank, msg);
}

/* With several ranks on this machine and GPUs in it, "auto" and "opencl"
 * become GPU local_rank mod count; anything else is taken as given. */
static const char *rank_device(const cli_dist *d, const char *device, char *buf, size_t len)
{
    const char *dev = device && *device ? device : getenv("CLCNN_DEVICE");
    if (!dev || !*dev)
        dev = "auto";
    if (d->local_size < 2 || (strcmp(dev, "auto") != 0 && strcmp(dev, "opencl") != 0))
        return dev;
    clcnn_device_info list[64];
    size_t count = 0, gpus = 0;
    if (clcnn_devices_list(NULL, list, sizeof list / sizeof *list, &count) != CLCNN_OK)
        return dev;
    if (count > sizeof list / sizeof *list)
        count = sizeof list / sizeof *list;
    for (size_t i = 0; i < count; i++)
        gpus += strcmp(list[i].device_type, "GPU") == 0;
    if (gpus == 0)
        return dev;
    size_t want = (size_t)d->local_rank % gpus;
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i].device_type, "GPU") == 0 && want-- == 0) {
            snprintf(buf, len, "opencl:%d:%d", list[i].platform_index, list[i].device_index);
            break;
        }
    return buf;
}

clcnn_ctx *cli_dist_open_ctx(cli_dist *d, const char *device)
{
    if (!d->active)
        return cli_open_ctx(device);
    char buf[64];
    clcnn_ctx_options o = {.device = rank_device(d, device, buf, sizeof buf), .log = log_notice, .log_user = d};
    /* The ranks on a machine share its cores. */
    const char *threads = getenv("CLCNN_THREADS");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if ((!threads || !*threads) && cores > 0) {
        long t = cores / d->local_size;
        o.threads = t < 1 ? 1 : t > 256 ? 256 : (int)t;
    }
    clcnn_ctx *ctx = NULL;
    if (clcnn_ctx_create_with_options(&ctx, &o) != CLCNN_OK) {
        cli_fail("rank %d: %s", d->rank, ctx ? clcnn_errmsg(ctx) : "out of memory");
        clcnn_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

int cli_dist_check_data(cli_dist *d, const clcnn_dataset *train)
{
    if (!d->active)
        return 0;
    unsigned long long mine[2] = {clcnn_dataset_count(train), clcnn_dataset_fingerprint(train)};
    unsigned long long *all = malloc((size_t)d->size * sizeof mine);
    if (!all)
        return cli_fail("out of memory");
    int err = MPI_Allgather(mine, 2, MPI_UNSIGNED_LONG_LONG, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    int rc = 0;
    if (err != MPI_SUCCESS)
        rc = mpi_fail("comparing the ranks' data", err);
    for (int r = 1; !rc && r < d->size; r++)
        if (all[2 * r] != all[0] || all[2 * r + 1] != all[1]) {
            rc = 1;
            if (d->rank == 0)
                cli_fail("rank %d's training set (%llu images, labels CRC %08llx) differs from rank 0's (%llu, "
                         "CRC %08llx): every rank must load the same data",
                         r, all[2 * r], all[2 * r + 1], all[0], all[1]);
        }
    free(all);
    return rc;
}

static int reduce_gradients(void *user, float *grad, size_t count, size_t examples, size_t batch)
{
    cli_dist *d = user;
    (void)examples, (void)batch; /* the gradients come scaled to the whole batch */
    if (count > INT_MAX)
        return cli_fail("%zu gradients are more than one MPI_Allreduce takes", count);
    double t = MPI_Wtime();
    int err = MPI_Allreduce(MPI_IN_PLACE, grad, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    d->reduce_seconds += MPI_Wtime() - t;
    d->steps++;
    return err == MPI_SUCCESS ? 0 : mpi_fail("MPI_Allreduce of the gradients", err);
}

static int reduce_sums(void *user, double *sums, size_t count)
{
    (void)user;
    int err = MPI_Allreduce(MPI_IN_PLACE, sums, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    return err == MPI_SUCCESS ? 0 : mpi_fail("MPI_Allreduce of the loss sums", err);
}

int cli_dist_attach(cli_dist *d, clcnn_model *m)
{
    if (!d->active)
        return 0;
    clcnn_reducer r = {(unsigned)d->rank, (unsigned)d->size, reduce_gradients, reduce_sums, d};
    return clcnn_model_set_reducer(m, &r) != CLCNN_OK;
}

int cli_dist_finish(cli_dist *d, int rc)
{
    if (!d->active)
        return rc;
    if (rc && d->size > 1) {
        /* The other ranks may be inside a collective this rank never joins. */
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    MPI_Finalize();
    return rc;
}
